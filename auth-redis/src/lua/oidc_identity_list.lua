-- oidc identity list_for_account: KEYS[1] the account's identities (sorted set by link time).
-- ARGV[1] the identity key prefix, ARGV[2] the account. Returns each link (iss, sub, provider,
-- account, linked_at) oldest first; members whose link is gone or moved leave the set.
local out = {}
for _, member in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local l = redis.call('HMGET', ARGV[1] .. member, 'iss', 'sub', 'provider', 'account', 'linked_at')
  if l[4] == ARGV[2] then
    out[#out + 1] = l
  else
    redis.call('ZREM', KEYS[1], member)
  end
end
return out
