-- revoke_subject: KEYS[1] the subject's key. ARGV[1] issued_before, ARGV[2] until (both
-- 20-digit nanoseconds), ARGV[3] TTL (ms). Both instants only ever move forward.
local issued_before = ARGV[1]
local cur = redis.call('GET', KEYS[1])
if cur then
  local cur_before, cur_until = string.match(cur, '^(%d+) (%d+)$')
  if cur_before and cur_before > issued_before then
    issued_before = cur_before
  end
  if cur_until and cur_until >= ARGV[2] then
    redis.call('SET', KEYS[1], issued_before .. ' ' .. cur_until, 'KEEPTTL')
    return 0
  end
end
redis.call('SET', KEYS[1], issued_before .. ' ' .. ARGV[2], 'PX', ARGV[3])
return 0
