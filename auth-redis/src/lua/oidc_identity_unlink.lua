-- oidc identity unlink: KEYS[1] the identity (hash), KEYS[2] the account's identities.
-- ARGV[1] account, ARGV[2] member. Removes the link only if it belongs to the account.
if redis.call('HGET', KEYS[1], 'account') ~= ARGV[1] then
  return 0
end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[2])
return 1
