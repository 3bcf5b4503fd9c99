-- record.lua: reports the outcome of a call that acquire.lua admitted.
--
-- KEYS:    the breaker's state hash, lease zset, window hash, history stream and settings
--          hash (see lib.lua)
-- ARGV:    1..5 as in lib.lua; 6 = generation the permit was admitted under,
--          7 = permit id, 8 = outcome: "success", "failure" or "release" (the call was
--          abandoned: free its lease, count nothing), 9 = the admission's time in ms (the
--          now_ms of acquire's reply; "" for now)
-- Returns: {verdict, state, forced, generation, retry_after_ms, from, to, repaired, now_ms,
--          settings_missing, requests, failures} (the window's counts, see lib.lua)
--          verdict "counted", "released", "stale" (admitted under another generation, or its
--          half-open lease already expired, or in a window that has ended: counts nothing)
--          or "ignored" (forced or disabled).
--
-- The counting is settle() in lib.lua: closed counts the outcome in the window its call was
-- admitted in; half-open reopens on one failure and closes after success_threshold successes.

local b, dirty = load()
local at = NOW
if ARGV[9] ~= '' then at = count(ARGV[9]) or NOW end
local verdict, from, to, changed = settle(b, tonumber(ARGV[6]), ARGV[7], ARGV[8], at)
commit(b, dirty or changed)
return reply(verdict, b, -1, from, to)
