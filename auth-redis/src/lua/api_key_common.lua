-- Shared by the API-key scripts. Keys (N is the store's namespace `<prefix>{apikey}:`, passed as ARGV[1];
-- the hash tag puts every key of the store in one cluster slot):
--   N hash:<sha256 hex>  hash: the record (times as 20-digit nanoseconds, scopes and
--                               roles as JSON text, absent fields for None)
--   N id:<id>      the record's digest (hex)
--   N owner:<owner>      set of the owner's key ids
-- `origin` is present for imported keys only (a native key's record leaves it out); a
-- rotation's replacement never copies it, so it is always native.
local FIELDS = { 'id', 'hash', 'name', 'owner', 'scopes', 'roles', 'created_at', 'expires_at',
  'revoked_at', 'last_used_at', 'replaced_by', 'origin' }

local function to_map(flat)
  local m = {}
  for i = 1, #flat, 2 do
    m[flat[i]] = flat[i + 1]
  end
  return m
end

local function to_flat(m)
  local out = {}
  for _, f in ipairs(FIELDS) do
    if m[f] then
      out[#out + 1] = f
      out[#out + 1] = m[f]
    end
  end
  return out
end

-- A key that can no longer be used (revoked, or past its expiry) is kept `retention_ms` after
-- it stopped working, then leaves; a key without an end is kept (-1: no TTL).
local function ttl_of(m, now, retention_ms)
  local ends = m.expires_at
  if m.revoked_at and (not ends or m.revoked_at < ends) then
    ends = m.revoked_at
  end
  if not ends then
    return -1
  end
  local ms = math.floor((tonumber(ends) - tonumber(now)) / 1000000) + retention_ms
  if ms < 1 then
    ms = 1
  end
  return ms
end

local function apply_ttl(key, ttl)
  if ttl < 0 then
    redis.call('PERSIST', key)
  else
    redis.call('PEXPIRE', key, ttl)
  end
end

-- The owner's set lives as long as its longest-lived key; ids whose key is gone leave it.
local function owner_ttl(owner_key, prefix)
  local max, persistent = 0, false
  for _, id in ipairs(redis.call('SMEMBERS', owner_key)) do
    local p = redis.call('PTTL', prefix .. 'id:' .. id)
    if p == -2 then
      redis.call('SREM', owner_key, id)
    elseif p == -1 then
      persistent = true
    elseif p > max then
      max = p
    end
  end
  if persistent then
    redis.call('PERSIST', owner_key)
  elseif max > 0 then
    redis.call('PEXPIRE', owner_key, max)
  end
end
