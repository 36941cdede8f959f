--[[ leave_line: take the listed fans out of the line or the pre-queue (they chose to leave).
  KEYS[1] tq:{ev:ID}:meta        HASH  counters ('departed')
  KEYS[2] tq:{ev:ID}:prequeue    SET   fans waiting for the opening shuffle
  KEYS[3] tq:{ev:ID}:line        ZSET  fan -> sequence number (waiting fans)
  KEYS[4] tq:{ev:ID}:fanseq      HASH  fan -> '<seq>:<last heartbeat ms>' or 'pre:<ms>'
  KEYS[5] tq:{ev:ID}:departures  LIST  sequence numbers of fans who left the line, in order
  ARGV[1] ARGV[2] ... ARGV[n] fan ids (one or more)
  Returns {removed_from_line, removed_from_prequeue} ]]
local rcall = redis.call
-- @include fan_place
local metaKey, prequeueKey, lineKey, fanSeqKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local departuresKey = KEYS[5]

local fromLine, fromPrequeue = 0, 0
for _, fan in ipairs(ARGV) do
  local place = rcall('HGET', fanSeqKey, fan)
  local left = place and leavePlace(prequeueKey, lineKey, fanSeqKey, departuresKey, fan, place)
  if left == 'line' then fromLine = fromLine + 1
  elseif left == 'pre' then fromPrequeue = fromPrequeue + 1 end
end
if fromLine > 0 then rcall('HINCRBY', metaKey, 'departed', fromLine) end
return {fromLine, fromPrequeue}
