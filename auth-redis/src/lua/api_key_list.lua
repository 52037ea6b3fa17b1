-- list_by_owner: KEYS[1] the owner's set. ARGV[1] the namespace. Returns every record (field, value,
-- ...), in no particular order; ids whose record is gone leave the set.
local out = {}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local h = redis.call('GET', ARGV[1] .. 'id:' .. id)
  local record = {}
  if h then
    record = redis.call('HGETALL', ARGV[1] .. 'hash:' .. h)
  end
  if #record > 0 then
    out[#out + 1] = record
  else
    redis.call('SREM', KEYS[1], id)
  end
end
return out
