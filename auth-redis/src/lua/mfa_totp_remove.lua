-- totp remove: KEYS[1] the account's credential (hash). Returns 1 when an active one was
-- removed.
local state = redis.call('HGET', KEYS[1], 'state')
redis.call('DEL', KEYS[1])
if state == 'active' then
  return 1
end
return 0
