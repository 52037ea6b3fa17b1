-- Shared by the refresh scripts. Keys (N is the store's namespace `<prefix>{refresh}:`, passed as ARGV[1];
-- the hash tag puts every key of the store in one cluster slot):
--   N token:<sha256 hex>  hash {family, exp, used}
--   N family:<id>       hash {subject, revoked, exp}
--   N subject:<subject>   set of family ids
-- Times are 20-digit nanoseconds, so comparing them as strings compares them as numbers.

-- Sets the TTL of `key` to `ttl` ms unless it already lives longer.
local function extend(key, ttl)
  if redis.call('PTTL', key) < tonumber(ttl) then
    redis.call('PEXPIRE', key, ttl)
  end
end
