--[[ leave_line: take fans out of the line or pre-queue: the listed fans (they left), or
  up to `limit` fans whose last heartbeat is older than `stale_before_ms` (grace ran out).
  KEYS[1] tq:{ev:ID}:meta        HASH  counters ('departed')
  KEYS[2] tq:{ev:ID}:prequeue    SET   fans waiting for the opening shuffle
  KEYS[3] tq:{ev:ID}:line        ZSET  fan -> sequence number (waiting fans)
  KEYS[4] tq:{ev:ID}:fanseq      HASH  fan -> sequence number, or 'pre'
  KEYS[5] tq:{ev:ID}:hb          ZSET  fan -> last heartbeat (ms)
  KEYS[6] tq:{ev:ID}:departures  LIST  sequence numbers of fans who left the line, in order
  ARGV[1] stale_before_ms ('' to take the listed fans)   ARGV[2] limit   ARGV[3..n] fan ids
  Returns {removed_from_line, removed_from_prequeue} ]]
local rcall = redis.call
local metaKey, prequeueKey, lineKey, fanSeqKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local heartbeatKey, departuresKey = KEYS[5], KEYS[6]
local staleBefore = ARGV[1]

local fans
if staleBefore == '' then
  fans = {}
  for i = 3, #ARGV do fans[#fans + 1] = ARGV[i] end
else
  fans = rcall('ZRANGEBYSCORE', heartbeatKey, '-inf', '(' .. staleBefore, 'LIMIT', 0,
    tonumber(ARGV[2]))
end

local fromLine, fromPrequeue = 0, 0
for _, fan in ipairs(fans) do
  local current = rcall('HGET', fanSeqKey, fan)
  if current == 'pre' then
    rcall('SREM', prequeueKey, fan)
    rcall('HDEL', fanSeqKey, fan)
    fromPrequeue = fromPrequeue + 1
  elseif current and rcall('ZREM', lineKey, fan) == 1 then
    -- Positions are streamed from counters: the departure log lets every gateway
    -- subtract leavers ahead of each socket without a per-fan read.
    rcall('RPUSH', departuresKey, current)
    rcall('HDEL', fanSeqKey, fan)
    fromLine = fromLine + 1
  end
  rcall('ZREM', heartbeatKey, fan)
end
if fromLine > 0 then rcall('HINCRBY', metaKey, 'departed', fromLine) end
return {fromLine, fromPrequeue}
