-- acquire.lua: asks for permission to make one protected call.
--
-- KEYS:    the breaker's state hash, lease zset, window hash and history stream (see lib.lua)
-- ARGV:    1..15 as in lib.lua; 16 = permit id (unique per call, used as the lease's member)
-- Returns: {verdict, state, forced, generation, retry_after_ms, from, to, repaired}
--          verdict "admitted" or "rejected"; retry_after_ms is -1 for an admission and for a
--          forced-open circuit (no deadline). A call in the open state after its timeout moves
--          the circuit to half-open (from/to say so) and then asks for a trial permit.
--
-- Closed: admitted, nothing written. Half-open: admitted only while fewer than max_requests
-- unexpired leases exist fleet-wide; each admission adds a lease that expires on its own, so a
-- caller that crashes or is cancelled cannot wedge the circuit.

local b, dirty = load()
local permit = ARGV[16]

local function finish(verdict, retry_after, from, to)
  if dirty then save(b) end
  return reply(verdict, b, retry_after, from, to)
end

if b.forced == 'open' then return finish('rejected', -1) end
if b.forced ~= 'none' or b.state == 'closed' then return finish('admitted', -1) end

local from, to
if b.state == 'open' then
  if NOW < b.open_until then return finish('rejected', b.open_until - NOW) end
  from = transition(b, 'half-open', 'open timeout elapsed')
  to = 'half-open'
  dirty = true
end

on_leases('ZREMRANGEBYSCORE', '-inf', NOW)
if on_leases('ZCARD') >= C.max_requests then
  local first = on_leases('ZRANGE', 0, 0, 'WITHSCORES')
  return finish('rejected', math.max(1, tonumber(first[2]) - NOW), from, to)
end
on_leases('ZADD', NOW + C.lease_ms, permit)
redis.call('PEXPIRE', K_LEASES, C.ttl_ms)
return finish('admitted', -1, from, to)
