-- exchange.lua: one round trip for everything a breaker replica has queued since its last one:
-- the outcomes of calls that ended, in the order they were recorded, then the admissions
-- asked for, in the order they were asked. Each is decided exactly as record.lua and
-- acquire.lua decide it alone (settle() and admit() in lib.lua), one after the other, so a
-- batch admits no more trial calls than the same calls one by one, and counts every outcome
-- once. Outcomes go first: a trial call's lease is freed (and a failure trips) before the
-- admissions that come after it are decided.
--
-- KEYS:    the breaker's state hash, lease zset, window hash, history stream and settings
--          hash (see lib.lua)
-- ARGV:    1..5 as in lib.lua; 6 = the number of outcomes, n; then 4 arguments per outcome,
--          as record.lua's 6..9: generation, permit id, "success" | "failure" | "release",
--          admission time in ms (or ""); then one permit id per admission (acquire.lua's 6),
--          to the end
-- Returns: {state, forced, generation, repaired, now_ms, settings_missing, requests, failures,
--           verdicts, retry_after_ms, transitions, counts}
--          state to failures as in lib.lua's reply, after the whole batch (and so the counts
--          of every admission's reply).
--          verdicts: one letter per operation in the order sent (outcomes, then admissions):
--          C counted, L released, S stale, I ignored (record.lua's verdicts), A admitted,
--          R rejected (acquire.lua's).
--          retry_after_ms: acquire.lua's for the batch's rejections, -1 when none: every
--          rejection of one batch shares it (one time, and admissions do not free permits).
--          transitions: {op, from, to, generation, ...} for each transition made, with the
--          position of the operation that made it in verdicts (from 1) and the generation
--          it started. An operation before the first transition ran in its from state, under
--          its generation - 1; the others in the state and generation of the last transition
--          before them.
--          counts: {requests, failures, ...} after each outcome, in order: what its reply alone
--          would have said.
--
-- The writes are those of the operations alone, but made once: the state hash and the window
-- are read once and written once per batch, whatever its size.

local b, dirty = load()
local n = count(ARGV[6])
if n == nil or 6 + 4 * n > #ARGV then
  return redis.error_reply('ERR breaker: exchange needs 4 arguments per outcome')
end
-- Written for a batch of hundreds: table slots by counter rather than #t (a search each time),
-- an outcome's generation and admission time parsed once per run of equal ones (the outcomes
-- of calls one exchange admitted share both), and the verdict bookkeeping written out in both
-- loops (a shared local function measured 2-7% slower on a batch of 126 calls).
local verdicts, transitions, counts, retry_after = {}, {}, {}, -1
local v, t, c = 0, 0, 0
local last_generation, generation, last_at, at = nil, nil, nil, NOW
for i = 7, 6 + 4 * n, 4 do
  if ARGV[i] ~= last_generation then
    last_generation, generation = ARGV[i], tonumber(ARGV[i])
  end
  if ARGV[i + 3] ~= last_at then
    last_at = ARGV[i + 3]
    at = NOW
    if last_at ~= '' then at = count(last_at) or NOW end
  end
  local verdict, from, to, changed = settle(b, generation, ARGV[i + 1], ARGV[i + 2], at)
  if changed then dirty = true end
  v = v + 1
  verdicts[v] = VERDICT_CODES[verdict]
  if from then
    transitions[t + 1], transitions[t + 2], transitions[t + 3], transitions[t + 4] =
      v, from, to, b.generation
    t = t + 4
  end
  counts[c + 1], counts[c + 2] = b.requests, b.failures
  c = c + 2
end
for i = 7 + 4 * n, #ARGV do
  local verdict, hint, from, to, changed = admit(b, ARGV[i])
  if verdict == 'rejected' then retry_after = hint end
  if changed then dirty = true end
  v = v + 1
  verdicts[v] = VERDICT_CODES[verdict]
  if from then
    transitions[t + 1], transitions[t + 2], transitions[t + 3], transitions[t + 4] =
      v, from, to, b.generation
    t = t + 4
  end
end
commit(b, dirty)
return { b.state, b.forced, b.generation, REPAIRED and 1 or 0, NOW, SETTINGS_MISSING and 1 or 0,
  b.requests, b.failures, table.concat(verdicts), retry_after, transitions, counts }
