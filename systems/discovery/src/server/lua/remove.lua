-- Removes every alive instance of one service on one port.
-- KEYS[1] the service's index, KEYS[2] the set of service names.
-- ARGV[1] the service's name, ARGV[2] the prefix of instance hashes, ARGV[3] the port.
-- Returns -1 when the service has no alive instance, else how many were removed.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local ids = redis.call('ZRANGE', KEYS[1], 0, -1)
if #ids == 0 then
  redis.call('SREM', KEYS[2], ARGV[1])
  return -1
end
local removed = 0
for _, id in ipairs(ids) do
  local key = ARGV[2] .. id
  if redis.call('HGET', key, 'port') == ARGV[3] then
    redis.call('DEL', key)
    redis.call('ZREM', KEYS[1], id)
    removed = removed + 1
  end
end
if removed == #ids then
  redis.call('SREM', KEYS[2], ARGV[1])
end
return removed
