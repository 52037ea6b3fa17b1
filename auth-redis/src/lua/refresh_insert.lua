-- insert_family: KEYS[1] the family, KEYS[2] the token, KEYS[3] the subject's set.
-- ARGV[1] the namespace, ARGV[2] family id, ARGV[3] subject, ARGV[4] expires_at, ARGV[5] TTL (ms).
-- Returns 0 stored, 1 family exists, 2 digest exists.
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 1
end
if redis.call('EXISTS', KEYS[2]) == 1 then
  return 2
end
redis.call('HSET', KEYS[2], 'family', ARGV[2], 'exp', ARGV[4], 'used', '0')
redis.call('PEXPIRE', KEYS[2], ARGV[5])
redis.call('HSET', KEYS[1], 'subject', ARGV[3], 'revoked', '0', 'exp', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('SADD', KEYS[3], ARGV[2])
extend(KEYS[3], ARGV[5])
return 0
