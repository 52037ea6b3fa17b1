-- revoke_family: KEYS[1] the family. Returns 1 when it existed and was not revoked yet.
if redis.call('HGET', KEYS[1], 'revoked') == '0' then
  redis.call('HSET', KEYS[1], 'revoked', '1')
  return 1
end
return 0
