-- oidc identity link_if_absent: KEYS[1] the identity (hash), KEYS[2] the account's identities
-- (sorted set by link time). ARGV[1] iss, ARGV[2] sub, ARGV[3] provider, ARGV[4] account,
-- ARGV[5] linked_at (time20), ARGV[6] score (link time in seconds), ARGV[7] member.
-- Returns the existing link (iss, sub, provider, account, linked_at) or an empty array when it
-- linked now: one step, so concurrent first sign-ins agree on one account.
if redis.call('EXISTS', KEYS[1]) == 1 then
  return redis.call('HMGET', KEYS[1], 'iss', 'sub', 'provider', 'account', 'linked_at')
end
redis.call('HSET', KEYS[1], 'iss', ARGV[1], 'sub', ARGV[2], 'provider', ARGV[3],
  'account', ARGV[4], 'linked_at', ARGV[5])
redis.call('ZADD', KEYS[2], ARGV[6], ARGV[7])
return {}
