-- admit: the pre-check. KEYS[1] the client's key.
-- ARGV: now_floor, now_ceil, window (s), max attempts per window.
-- Returns {0} admitted, {1, locked_until, level} locked out, {2, free_at, level} rate limited.
local now_floor = tonumber(ARGV[1])
local now_ceil = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
local max = tonumber(ARGV[4])

local r = load(KEYS[1])
decay(r, now_floor)
prune(r, window, now_floor)
local answer
if r.locked > now_floor then
  answer = { 1, r.locked, r.level }
elseif #r.win >= max then
  -- The attempt that must leave the window before another fits.
  answer = { 2, math.min(r.win[#r.win - max + 1] + window, U32), r.level }
else
  r.win[#r.win + 1] = now_ceil
  table.sort(r.win)
  answer = { 0, 0, 0 }
end
save(KEYS[1], r, window, now_floor)
return answer
