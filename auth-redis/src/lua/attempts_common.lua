-- Shared by the attempt scripts: the per-key state of auth-core's AttemptRecord and its
-- transitions, applied inside one script so a key's read-modify-write is atomic.
--
-- A key's value is "level failures locked_until decays_at t1 t2 ...": whole seconds since the
-- Unix epoch; t1.. are the admitted attempts still in the window, ascending. Every comparison
-- with "now" uses whole seconds the strict way, as AttemptRecord does: `now_floor` for "has
-- it passed", `now_ceil` for the time an attempt or failure is recorded at.
local U32 = 4294967295

local function load(key)
  local r = { level = 0, failures = 0, locked = 0, decays = 0, win = {} }
  local v = redis.call('GET', key)
  if not v then
    return r
  end
  local i = 0
  for n in string.gmatch(v, '%d+') do
    i = i + 1
    local x = tonumber(n)
    if i == 1 then
      r.level = x
    elseif i == 2 then
      r.failures = x
    elseif i == 3 then
      r.locked = x
    elseif i == 4 then
      r.decays = x
    else
      r.win[#r.win + 1] = x
    end
  end
  table.sort(r.win)
  return r
end

-- Failures and level reset once the quiet period has passed.
local function decay(r, now_floor)
  if (r.failures > 0 or r.level > 0) and r.decays <= now_floor then
    r.failures = 0
    r.level = 0
    r.locked = 0
    r.decays = 0
  end
end

local function is_suspect(r, now_floor)
  decay(r, now_floor)
  return r.failures > 0 or r.level > 0
end

-- Drops the attempts that left the window.
local function prune(r, window, now_floor)
  local keep = {}
  for _, t in ipairs(r.win) do
    if t + window > now_floor then
      keep[#keep + 1] = t
    end
  end
  r.win = keep
end

-- When the state holds nothing a fresh key would not.
local function expires(r, window)
  local e = 0
  local n = #r.win
  if n > 0 then
    e = math.min(r.win[n] + window, U32)
  end
  if (r.failures > 0 or r.level > 0) and r.decays > e then
    e = r.decays
  end
  return e
end

-- Writes the state with a TTL until it expires, or deletes it when it equals a fresh one.
local function save(key, r, window, now_floor)
  local e = expires(r, window)
  if e <= now_floor then
    redis.call('DEL', key)
    return
  end
  local parts = { r.level, r.failures, r.locked, r.decays }
  for _, t in ipairs(r.win) do
    parts[#parts + 1] = t
  end
  redis.call('SET', key, table.concat(parts, ' '), 'EX', e - now_floor)
end
