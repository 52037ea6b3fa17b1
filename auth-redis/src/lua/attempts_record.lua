-- record: the outcome of an admitted attempt, for the client and (optionally) the account, in
-- one step. KEYS[1] the client's key, KEYS[2] the account's key (when ARGV[5] is '1').
-- ARGV: now_floor, now_ceil, window, outcome ('s', 'f' or 'n'), has_account ('0'/'1'),
--       client failures before lockout, account failures before lockout, decay (s),
--       every_client ('0'/'1'), then for each ladder level the second its lockout would end if
--       it started now.
-- Returns {0, client_level, account_level, engaged} recorded, {1, locked_until, level} refused.
local now_floor = tonumber(ARGV[1])
local now_ceil = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
local outcome = ARGV[4]
local has_account = ARGV[5] == '1'
local client_threshold = tonumber(ARGV[6])
local account_threshold = tonumber(ARGV[7])
local decay_secs = tonumber(ARGV[8])
local every_client = ARGV[9] == '1'
local lock_end = {}
for i = 10, #ARGV do
  lock_end[#lock_end + 1] = tonumber(ARGV[i])
end
local max_level = #lock_end

-- One more failure; a lockout at the threshold, one step up the ladder.
local function add_failure(r, threshold)
  r.failures = math.min(r.failures + 1, 65535)
  local engaged = 0
  if r.failures >= threshold then
    r.level = math.min(r.level + 1, max_level)
    local until_s = lock_end[r.level]
    if until_s > r.locked then
      r.locked = until_s
    end
    r.failures = 0
    engaged = 1
  end
  r.decays = math.min(math.max(now_ceil, r.locked) + decay_secs, U32)
  return engaged
end

-- The client first: "was it suspect" is read and its failure recorded in the same step.
local client = load(KEYS[1])
local suspect = is_suspect(client, now_floor)
prune(client, window, now_floor)
local client_engaged = 0
if outcome == 'f' then
  client_engaged = add_failure(client, client_threshold)
end
save(KEYS[1], client, window, now_floor)
if not has_account then
  return { 0, client.level, 0, client_engaged }
end

local account = load(KEYS[2])
decay(account, now_floor)
if account.locked > now_floor and (every_client or suspect) then
  save(KEYS[2], account, window, now_floor)
  return { 1, account.locked, account.level }
end
local engaged = 0
if outcome == 's' then
  account.failures = 0
  account.level = 0
  account.locked = 0
  account.decays = 0
elseif outcome == 'f' then
  engaged = add_failure(account, account_threshold)
end
save(KEYS[2], account, window, now_floor)
if client_engaged == 1 then
  engaged = 1
end
return { 0, client.level, account.level, engaged }
