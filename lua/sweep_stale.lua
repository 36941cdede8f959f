--[[ sweep_stale: one bounded step of the sweep that takes silent fans (last heartbeat older
  than stale_before_ms: their grace ran out) out of the line and the pre-queue. Each call
  reads about `scan_count` fans with HSCAN from the cursor kept in meta ('sweep_cursor'), so
  a million-fan line costs many short calls, never one long one; successive calls go round
  the whole hash (a fan at the head is also checked by admit_batch, whatever the cursor).
  KEYS[1] tq:{ev:ID}:meta        HASH  counters ('departed'), the sweep cursor
  KEYS[2] tq:{ev:ID}:prequeue    SET   fans waiting for the opening shuffle
  KEYS[3] tq:{ev:ID}:line        ZSET  fan -> sequence number (waiting fans)
  KEYS[4] tq:{ev:ID}:fanseq      HASH  fan -> '<seq>:<last heartbeat ms>' or 'pre:<ms>'
  KEYS[5] tq:{ev:ID}:departures  LIST  sequence numbers of fans who left the line, in order
  ARGV[1] now_ms   ARGV[2] stale_before_ms   ARGV[3] scan_count (HSCAN COUNT per call)
  Returns {removed_from_line, removed_from_prequeue, round_done 0|1 (cursor back at 0)} ]]
local rcall = redis.call
-- @include fan_place
local metaKey, prequeueKey, lineKey, fanSeqKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local departuresKey = KEYS[5]
local now = tonumber(ARGV[1])
local staleBefore = tonumber(ARGV[2])
local scanCount = tonumber(ARGV[3])

local cursor = rcall('HGET', metaKey, 'sweep_cursor') or '0'
local page = rcall('HSCAN', fanSeqKey, cursor, 'COUNT', scanCount)
local fromLine, fromPrequeue = 0, 0
local entries = page[2]
for i = 1, #entries, 2 do
  local fan, place = entries[i], entries[i + 1]
  local seq, beat = readPlace(place)
  if not beat then
    -- An old-format place (no heartbeat in it): converted here, heard from now.
    rcall('HSET', fanSeqKey, fan, formatPlace(seq, placeHeartbeat(beat, now)))
  elseif beat < staleBefore then
    local left = leavePlace(prequeueKey, lineKey, fanSeqKey, departuresKey, fan, place)
    if left == 'line' then fromLine = fromLine + 1
    elseif left == 'pre' then fromPrequeue = fromPrequeue + 1 end
  end
end
rcall('HSET', metaKey, 'sweep_cursor', page[1])
if fromLine > 0 then rcall('HINCRBY', metaKey, 'departed', fromLine) end
return {fromLine, fromPrequeue, page[1] == '0' and 1 or 0}
