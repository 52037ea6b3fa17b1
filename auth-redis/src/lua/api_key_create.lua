-- create: KEYS[1] the record, KEYS[2] the id, KEYS[3] the owner's set.
-- ARGV[1] the namespace, ARGV[2] now, ARGV[3] retention (ms), ARGV[4..] field, value, ...
-- Returns 0 stored, 1 duplicate id or digest.
if redis.call('EXISTS', KEYS[2]) == 1 or redis.call('EXISTS', KEYS[1]) == 1 then
  return 1
end
local fields = {}
for i = 4, #ARGV do
  fields[#fields + 1] = ARGV[i]
end
local m = to_map(fields)
redis.call('HSET', KEYS[1], unpack(fields))
redis.call('SET', KEYS[2], m.hash)
local ttl = ttl_of(m, ARGV[2], tonumber(ARGV[3]))
if ttl >= 0 then
  redis.call('PEXPIRE', KEYS[1], ttl)
  redis.call('PEXPIRE', KEYS[2], ttl)
end
redis.call('SADD', KEYS[3], m.id)
owner_ttl(KEYS[3], ARGV[1])
return 0
