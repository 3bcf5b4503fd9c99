-- settings.lua: publishes a breaker replica's settings where tools can read them.
--
-- KEYS:    the breaker's state hash, lease zset, window hash, history stream and settings
--          hash (see lib.lua); only the state (read) and the settings hash (written) are used
-- ARGV:    1..5 as in lib.lua; 7.. = field, value, field, value... : the serde form of the
--          settings (plain lower-case values: "failure_ratio", "5s", "3") and the writer's
--          replica, instance and script_args fields; 6 = number of those arguments
-- Returns: the server time the settings were written at (ms), also stored as written_at_ms.
--
-- The hash is replaced whole, so a field the last writer does not set (slow_call_threshold
-- off, a fixed window instead of a rolling one) is not left over from an earlier writer:
-- replicas with different settings overwrite each other, the last one wins, and its replica
-- field says which one it was. Its lifetime is the state's: key_ttl, or none while the
-- breaker is forced (an override outlives idle periods, and resetting it needs the settings).

local n = count(ARGV[6])
if n == nil or n % 2 ~= 0 or 6 + n ~= #ARGV then
  return redis.error_reply('ERR breaker: settings need field/value pairs')
end
local args = { 'written_at_ms', NOW }
for i = 7, 6 + n do args[#args + 1] = ARGV[i] end
redis.call('DEL', K_SETTINGS)
redis.call('HSET', K_SETTINGS, unpack(args))
local forced = redis.pcall('HGET', K_STATE, 'forced')
if forced == 'open' or forced == 'closed' or forced == 'disabled' then
  redis.call('PERSIST', K_SETTINGS)
else
  redis.call('PEXPIRE', K_SETTINGS, C.ttl_ms)
end
return NOW
