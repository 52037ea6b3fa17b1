-- revoke_subject: KEYS[1] the subject's set. ARGV[1] the namespace. Returns how many families were
-- newly revoked (as a decimal string), then the id of every family of the subject still stored
-- (revoked now, by this call or before); ids whose family has expired leave the set.
local n = 0
local ids = {}
for _, family in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local family_key = ARGV[1] .. 'family:' .. family
  local revoked = redis.call('HGET', family_key, 'revoked')
  if revoked == '0' then
    redis.call('HSET', family_key, 'revoked', '1')
    n = n + 1
    ids[#ids + 1] = family
  elseif revoked then
    ids[#ids + 1] = family
  else
    redis.call('SREM', KEYS[1], family)
  end
end
table.insert(ids, 1, tostring(n))
return ids
