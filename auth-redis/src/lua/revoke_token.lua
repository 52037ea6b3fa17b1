-- revoke_token (also sessions): KEYS[1] the jti's or the session's key. ARGV[1] until (20-digit
-- nanoseconds), ARGV[2] TTL (ms). An existing entry is only ever extended. Returns 1 when the
-- key was not listed before.
local cur = redis.call('GET', KEYS[1])
if cur and cur >= ARGV[1] then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
if cur then
  return 0
end
return 1
