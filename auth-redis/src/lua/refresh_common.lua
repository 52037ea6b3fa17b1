-- Shared by the refresh scripts. Keys (P is the prefix, passed as ARGV[1]):
--   P refresh:token:<sha256 hex>  hash {family, exp, used}
--   P refresh:family:<id>         hash {subject, revoked, exp}
--   P refresh:subject:<subject>   set of family ids
-- Times are 20-digit nanoseconds, so comparing them as strings compares them as numbers.

-- Sets the TTL of `key` to `ttl` ms unless it already lives longer.
local function extend(key, ttl)
  if redis.call('PTTL', key) < tonumber(ttl) then
    redis.call('PEXPIRE', key, ttl)
  end
end
