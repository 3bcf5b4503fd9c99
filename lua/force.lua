-- force.lua: an operator's override, shared by every replica.
--
-- KEYS:    the breaker's state hash, lease zset, window hash, history stream and settings
--          hash (see lib.lua)
-- ARGV:    1..5 as in lib.lua; 6 = mode: "open" (reject every call until reset),
--          "closed" (admit every call, never trip), "disabled" (admit every call, count
--          nothing) or "reset" (back to a fresh closed circuit that trips normally)
-- Returns: {verdict "ok", state, forced, generation, -1, from, to, repaired, now_ms,
--          settings_missing, requests, failures} (the window's counts, see lib.lua)
--          from/to are always set: every override is a transition under a new generation,
--          published like any other.
--
-- A forced state hash has no TTL (it lasts until reset, however long no call comes); reset
-- gives it key_ttl again.

local b = load()
local mode = ARGV[6]
local to = 'closed'
if mode == 'reset' then
  b.forced = 'none'
elseif mode == 'open' or mode == 'closed' or mode == 'disabled' then
  b.forced = mode
  if mode == 'open' then to = 'open' end
else
  return redis.error_reply('unknown force mode: ' .. tostring(mode))
end
local from = transition(b, to, mode == 'reset' and 'reset' or ('forced ' .. mode))
save(b)
return reply('ok', b, -1, from, to)
