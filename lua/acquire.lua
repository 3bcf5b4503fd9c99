-- acquire.lua: asks for permission to make one protected call.
--
-- KEYS:    the breaker's state hash, lease zset, window hash, history stream and settings
--          hash (see lib.lua)
-- ARGV:    1..5 as in lib.lua; 6 = permit id (unique per call, used as the lease's member)
-- Returns: {verdict, state, forced, generation, retry_after_ms, from, to, repaired, now_ms,
--          settings_missing, requests, failures} (the window's counts, see lib.lua)
--          verdict "admitted" or "rejected"; retry_after_ms is -1 for an admission and for a
--          forced-open circuit (no deadline). A call in the open state after its timeout moves
--          the circuit to half-open (from/to say so) and then asks for a trial permit. now_ms
--          is the admission's time: record.lua takes it back to count the outcome in the
--          window the call was admitted in.
--
-- The decision is admit() in lib.lua: closed admits and writes nothing (but the TTL is
-- renewed, see lib.lua); half-open admits while fewer than max_requests leases exist
-- fleet-wide; open rejects until its timeout ends.

local b, dirty = load()
local verdict, retry_after, from, to, changed = admit(b, ARGV[6])
commit(b, dirty or changed)
return reply(verdict, b, retry_after, from, to)
