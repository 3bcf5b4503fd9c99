-- Replaces an idempotency record only if it is still the one the caller read, so that of two
-- replicas taking over an abandoned order only one does.
-- KEYS:    the record
-- ARGV:    [1] the record as read, [2] the new record, [3] its TTL in ms
-- Returns: 1 if replaced, 0 if the record had changed
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
