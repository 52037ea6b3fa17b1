-- record_use: KEYS[1] the id. ARGV[1] the namespace, ARGV[2] at. last_used_at only moves forward.
local h = redis.call('GET', KEYS[1])
if not h then
  return 0
end
local record_key = ARGV[1] .. 'hash:' .. h
local cur = redis.call('HGET', record_key, 'last_used_at')
if redis.call('EXISTS', record_key) == 0 then
  return 0
end
if not cur or cur < ARGV[2] then
  redis.call('HSET', record_key, 'last_used_at', ARGV[2])
end
return 1
