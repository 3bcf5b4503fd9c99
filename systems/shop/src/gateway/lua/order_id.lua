-- The next order id: a millisecond on Redis's clock, later than every id handed out before, so
-- that ids are unique across concurrent orders and gateway replicas.
-- KEYS:    the last id handed out
-- ARGV:    [1] the caller's own last id (ids it made while Redis was down), [2] the key's TTL in ms
-- Returns: the id, an integer number of milliseconds since the epoch
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local last = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
local id = math.max(now, last + 1, tonumber(ARGV[1]) + 1)
redis.call('SET', KEYS[1], string.format('%.0f', id), 'PX', ARGV[2])
return id
