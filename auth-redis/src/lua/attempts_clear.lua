-- clear: forgets the failures and lockout of KEYS[1]; keeps its window and its TTL.
local r = load(KEYS[1])
if #r.win == 0 then
  return redis.call('DEL', KEYS[1])
end
local parts = { 0, 0, 0, 0 }
for _, t in ipairs(r.win) do
  parts[#parts + 1] = t
end
redis.call('SET', KEYS[1], table.concat(parts, ' '), 'KEEPTTL')
return 1
