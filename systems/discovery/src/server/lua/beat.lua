-- Registers or refreshes one instance: its hash lives 1.5 x its interval, and the service's
-- index scores it with that deadline, so a reader drops it exactly when the deadline passes.
-- KEYS[1] the instance's hash, KEYS[2] the service's index (zset: id -> deadline ms),
-- KEYS[3] the set of service names.
-- ARGV: id, name, ip, port, interval (seconds, as given), interval ms, registering ("1"/"0").
-- Returns {registeredAt, lastHeartbeat} in ms since the epoch (Redis's clock).
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = math.floor(tonumber(ARGV[6]) * 3 / 2)
local registered = now
if ARGV[7] ~= '1' then
  registered = tonumber(redis.call('HGET', KEYS[1], 'registeredAt')) or now
end
redis.call('HSET', KEYS[1], 'id', ARGV[1], 'name', ARGV[2], 'ip', ARGV[3], 'port', ARGV[4],
  'heartbeatInterval', ARGV[5], 'registeredAt', registered, 'lastHeartbeat', now)
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
redis.call('ZADD', KEYS[2], now + ttl, ARGV[1])
local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[2], tonumber(last[2]))
redis.call('SADD', KEYS[3], ARGV[2])
return {registered, now}
