-- rights.lua: which commands of the breaker's scripts (and of its subscriber) the Redis user
-- may not run, on this breaker's keys and channel. Not part of any operation: breaker-redis
-- runs it only after Redis refused one, to name what is missing and to learn when it is fixed.
--
-- KEYS:    the breaker's state hash, lease zset, window hash, history stream and settings
--          hash (see lib.lua)
-- ARGV:    1 = the breaker's pub/sub channel
-- Returns: a list of "COMMAND target" the ACL refuses (empty: every one is allowed), or
--          {"?"} on Redis before 7.0, which cannot tell.
--
-- Keep in step with the scripts: breaker-redis's tests compare this list with every command
-- the scripts call.

if not redis.acl_check_cmd then return { '?' } end

local S, L, W, H, SE, CH = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], ARGV[1]
local checks = {
  { 'TIME' },
  { 'HMGET', S, 'f' }, { 'HSET', S, 'f', 'v' }, { 'PEXPIRE', S, '1' }, { 'PERSIST', S },
  { 'PTTL', S }, { 'DEL', S }, { 'HGET', S, 'f' },
  { 'ZADD', L, '1', 'm' }, { 'ZREM', L, 'm' }, { 'ZCARD', L }, { 'ZCOUNT', L, '0', '1' },
  { 'ZRANGE', L, '0', '0' }, { 'ZREMRANGEBYSCORE', L, '0', '1' }, { 'PEXPIRE', L, '1' },
  { 'DEL', L },
  { 'HGETALL', W }, { 'HSET', W, 'f', 'v' }, { 'PEXPIRE', W, '1' }, { 'DEL', W },
  { 'XADD', H, '*', 'f', 'v' }, { 'PEXPIRE', H, '1' }, { 'DEL', H },
  { 'XRANGE', H, '-', '+' }, { 'XREVRANGE', H, '+', '-' },
  { 'EXISTS', SE }, { 'HSET', SE, 'f', 'v' }, { 'PEXPIRE', SE, '1' }, { 'PERSIST', SE },
  { 'DEL', SE },
  { 'PUBLISH', CH, 'm' }, { 'SUBSCRIBE', CH },
}
local missing = {}
for _, c in ipairs(checks) do
  if not redis.acl_check_cmd(unpack(c)) then
    missing[#missing + 1] = c[1] .. (c[2] and (' ' .. c[2]) or '')
  end
end
return missing
