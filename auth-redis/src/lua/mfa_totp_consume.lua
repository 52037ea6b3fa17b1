-- totp consume_step: KEYS[1] the account's credential (hash).
-- ARGV[1] id, ARGV[2] the step (20 digits).
-- The replay guard: accepts only a step later than the last accepted one, in one step, so of
-- any number of concurrent submissions of one code exactly one is accepted.
local c = redis.call('HMGET', KEYS[1], 'state', 'id', 'step')
if c[1] ~= 'active' or c[2] ~= ARGV[1] or not c[3] or ARGV[2] <= c[3] then
  return 0
end
redis.call('HSET', KEYS[1], 'step', ARGV[2])
return 1
