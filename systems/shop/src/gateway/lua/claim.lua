-- Claims an idempotency key: writes the caller's pending record unless the key has one, in one
-- step, so that of two requests with one key exactly one runs (SET NX GET, before Redis 7).
-- KEYS:    the record
-- ARGV:    [1] the pending record, [2] its TTL in ms
-- Returns: the record already there, or nil when the caller's was written
local existing = redis.call('GET', KEYS[1])
if existing then
  return existing
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return false
