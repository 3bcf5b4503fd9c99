-- The alive instances of one service: drops the expired ids from its index (and the name from
-- the set of names once none is left) and returns the others' hashes.
-- KEYS[1] the service's index, KEYS[2] the set of service names.
-- ARGV[1] the service's name, ARGV[2] the prefix of instance hashes (the id follows it).
-- Returns a flat list of HGETALL replies, one per alive instance.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local ids = redis.call('ZRANGE', KEYS[1], 0, -1)
if #ids == 0 then
  redis.call('SREM', KEYS[2], ARGV[1])
end
local out = {}
for _, id in ipairs(ids) do
  local fields = redis.call('HGETALL', ARGV[2] .. id)
  if #fields > 0 then
    table.insert(out, fields)
  end
end
return out
