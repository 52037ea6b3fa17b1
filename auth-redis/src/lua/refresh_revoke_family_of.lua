-- revoke_family_of: KEYS[1] a token. ARGV[1] the namespace. Returns its family id, or nil.
local family = redis.call('HGET', KEYS[1], 'family')
if not family then
  return false
end
local family_key = ARGV[1] .. 'family:' .. family
if redis.call('HGET', family_key, 'revoked') == '0' then
  redis.call('HSET', family_key, 'revoked', '1')
end
return family
