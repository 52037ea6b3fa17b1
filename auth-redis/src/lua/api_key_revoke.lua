-- revoke: KEYS[1] the id. ARGV[1] the namespace, ARGV[2] owner, ARGV[3] at, ARGV[4] retention (ms).
-- Returns the updated record (field, value, ...), or an empty array when the key does not
-- exist or belongs to someone else.
local h = redis.call('GET', KEYS[1])
if not h then
  return {}
end
local record_key = ARGV[1] .. 'hash:' .. h
local m = to_map(redis.call('HGETALL', record_key))
if m.owner ~= ARGV[2] then
  return {}
end
if not m.revoked_at then
  m.revoked_at = ARGV[3]
  redis.call('HSET', record_key, 'revoked_at', ARGV[3])
end
local ttl = ttl_of(m, ARGV[3], tonumber(ARGV[4]))
apply_ttl(record_key, ttl)
apply_ttl(KEYS[1], ttl)
owner_ttl(ARGV[1] .. 'owner:' .. m.owner, ARGV[1])
return to_flat(m)
