-- mfa token insert: KEYS[1] the pending login (hash).
-- ARGV[1] subject, ARGV[2] binding, ARGV[3] started, ARGV[4] expires_at, ARGV[5] TTL (ms).
-- Returns 0 when the digest exists, 1 when stored.
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
redis.call('HSET', KEYS[1], 'subject', ARGV[1], 'binding', ARGV[2], 'started', ARGV[3],
  'exp', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1
