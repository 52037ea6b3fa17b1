-- recovery replace: KEYS[1] the account's set of digests; ARGV the new digests (hex).
-- The old set goes in the same step the new one arrives: no old code survives.
redis.call('DEL', KEYS[1])
if #ARGV > 0 then
  redis.call('SADD', KEYS[1], unpack(ARGV))
end
return #ARGV
