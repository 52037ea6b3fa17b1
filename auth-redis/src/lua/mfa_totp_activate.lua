-- totp activate: KEYS[1] the account's credential (hash).
-- ARGV[1] id, ARGV[2] the confirmation's step (20 digits), ARGV[3] now.
-- Only the pending credential that was checked, before it lapses, becomes active; it then
-- never expires. Times and steps are fixed-width, so string order is number order.
local c = redis.call('HMGET', KEYS[1], 'state', 'id', 'exp')
if c[1] ~= 'pending' or c[2] ~= ARGV[1] or not c[3] or ARGV[3] >= c[3] then
  return 0
end
redis.call('HSET', KEYS[1], 'state', 'active', 'step', ARGV[2])
redis.call('HDEL', KEYS[1], 'exp')
redis.call('PERSIST', KEYS[1])
return 1
