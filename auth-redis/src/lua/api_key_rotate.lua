-- rotate: KEYS[1] the old id, KEYS[2] the new id, KEYS[3] the new record.
-- ARGV[1] the namespace, ARGV[2] owner, ARGV[3] now, ARGV[4] new id, ARGV[5] new digest (hex),
-- ARGV[6] grace_until, ARGV[7] retention (ms).
-- Returns {'rotated', old record, new record}, {'not_found'}, {'not_active'} or {'duplicate'}.
local h = redis.call('GET', KEYS[1])
if not h then
  return { 'not_found' }
end
if redis.call('EXISTS', KEYS[2]) == 1 or redis.call('EXISTS', KEYS[3]) == 1 then
  return { 'duplicate' }
end
local prefix, now = ARGV[1], ARGV[3]
local record_key = prefix .. 'hash:' .. h
local old = to_map(redis.call('HGETALL', record_key))
if old.owner ~= ARGV[2] then
  return { 'not_found' }
end
-- can_rotate: active (not revoked, not expired) and never rotated before.
if old.revoked_at or (old.expires_at and now >= old.expires_at) or old.replaced_by then
  return { 'not_active' }
end
local new = {
  id = ARGV[4], hash = ARGV[5], name = old.name, owner = old.owner, scopes = old.scopes,
  roles = old.roles, created_at = now, expires_at = old.expires_at,
}
-- The old key works until the grace period ends, never later than it already would have.
if not (old.expires_at and old.expires_at < ARGV[6]) then
  old.expires_at = ARGV[6]
end
old.replaced_by = ARGV[4]
redis.call('HSET', record_key, 'expires_at', old.expires_at, 'replaced_by', old.replaced_by)
redis.call('HSET', KEYS[3], unpack(to_flat(new)))
redis.call('SET', KEYS[2], ARGV[5])
local retention = tonumber(ARGV[7])
local old_ttl = ttl_of(old, now, retention)
apply_ttl(record_key, old_ttl)
apply_ttl(KEYS[1], old_ttl)
local new_ttl = ttl_of(new, now, retention)
apply_ttl(KEYS[3], new_ttl)
apply_ttl(KEYS[2], new_ttl)
local owner_key = prefix .. 'owner:' .. old.owner
redis.call('SADD', owner_key, ARGV[4])
owner_ttl(owner_key, prefix)
return { 'rotated', to_flat(old), to_flat(new) }
