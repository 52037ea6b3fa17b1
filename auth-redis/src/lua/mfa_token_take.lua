-- mfa token take: KEYS[1] the pending login (hash). Reads and deletes it in one step, so a
-- token completes at most one login.
local l = redis.call('HMGET', KEYS[1], 'subject', 'binding', 'started', 'exp')
redis.call('DEL', KEYS[1])
return l
