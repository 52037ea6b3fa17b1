-- context save: KEYS[1] the session's context (hash).
-- ARGV[1] the claims (JSON), ARGV[2] expires_at, ARGV[3] TTL (ms).
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'claims', ARGV[1], 'exp', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
