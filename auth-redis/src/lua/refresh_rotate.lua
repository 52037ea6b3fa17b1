-- rotate: KEYS[1] the presented token, KEYS[2] the replacement.
-- ARGV[1] the namespace, ARGV[2] now, ARGV[3] the replacement's expires_at, ARGV[4] its TTL (ms).
-- Check, mark used and store the replacement in one step: of many callers presenting one
-- token, exactly one gets 'rotated'.
local t = redis.call('HMGET', KEYS[1], 'family', 'exp', 'used')
if not t[1] then
  return { 'unknown' }
end
local family_key = ARGV[1] .. 'family:' .. t[1]
local f = redis.call('HMGET', family_key, 'subject', 'revoked', 'exp')
if not f[1] then
  return { 'unknown' }
end
if t[3] == '1' then
  redis.call('HSET', family_key, 'revoked', '1')
  return { 'reused', t[1], f[1] }
end
if f[2] == '1' then
  return { 'revoked' }
end
if ARGV[2] >= t[2] then
  return { 'expired' }
end
if redis.call('EXISTS', KEYS[2]) == 1 then
  return { 'duplicate' }
end
redis.call('HSET', KEYS[1], 'used', '1')
redis.call('HSET', KEYS[2], 'family', t[1], 'exp', ARGV[3], 'used', '0')
redis.call('PEXPIRE', KEYS[2], ARGV[4])
if not f[3] or ARGV[3] > f[3] then
  redis.call('HSET', family_key, 'exp', ARGV[3])
end
extend(family_key, ARGV[4])
extend(ARGV[1] .. 'subject:' .. f[1], ARGV[4])
return { 'rotated', t[1], f[1] }
