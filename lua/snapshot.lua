-- snapshot.lua: reads the breaker as every replica sees it (repairing it if it is corrupted).
--
-- KEYS:    the breaker's state hash, lease zset, window hash, history stream and settings
--          hash (see lib.lua)
-- ARGV:    1..5 as in lib.lua
-- Returns: {state, forced, generation, open_until_ms, requests, failures,
--           consecutive_failures, half_open_successes, in_flight, now_ms, repaired (0|1)}
--          counts are those of the current window; in_flight counts unexpired half-open leases.
--          The state is as stored: an open circuit whose timeout has passed still reads "open"
--          until a call moves it to half-open (open_until_ms <= now_ms tells).
--
-- A breaker with no keys reads as the new closed one a call would create (its generation
-- is now_ms), but reading creates nothing and does not renew any TTL: only calls keep a
-- breaker alive.

local b, dirty = load()
if dirty and not CREATED then save(b) end
local req, fail, consecutive = b.requests, b.failures, b.consecutive_failures
if b.state == 'closed' then
  if C.window_kind == 1 then
    if fixed_window_expired(b) then req, fail, consecutive = 0, 0, 0 end
  else
    local w = window()
    req, fail = w.requests, w.failures
  end
end
local in_flight = 0
if b.state == 'half-open' then in_flight = on_leases('ZCOUNT', '(' .. NOW, '+inf') end
return { b.state, b.forced, b.generation, b.open_until, req, fail, consecutive,
  b.half_open_successes, in_flight, NOW, REPAIRED and 1 or 0 }
