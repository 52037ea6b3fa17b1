-- totp put_pending: KEYS[1] the account's credential (hash).
-- ARGV[1] id, ARGV[2] sealed secret (base64url), ARGV[3] algorithm, ARGV[4] digits,
-- ARGV[5] period (s), ARGV[6] created, ARGV[7] expires_at, ARGV[8] TTL (ms).
-- An active credential is never replaced: returns 0 then, 1 when the pending one is stored.
if redis.call('HGET', KEYS[1], 'state') == 'active' then
  return 0
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'id', ARGV[1], 'secret', ARGV[2], 'alg', ARGV[3],
  'digits', ARGV[4], 'period', ARGV[5], 'created', ARGV[6], 'state', 'pending',
  'exp', ARGV[7])
redis.call('PEXPIRE', KEYS[1], ARGV[8])
return 1
