--[[ heartbeat_fan: record that fans are still present (one call carries many fans).
  KEYS[1] tq:{ev:ID}:line      ZSET  fan -> sequence number (waiting fans)
  KEYS[2] tq:{ev:ID}:fanseq    HASH  fan -> '<seq>:<last heartbeat ms>' or 'pre:<ms>'
  ARGV[1] now_ms   ARGV[2..n] fan ids
  Returns {flag per fan}: 1 still waiting (heartbeat recorded) | 0 no place in line
    (admitted, or dropped after the grace period: join again) ]]
local rcall = redis.call
-- @include fan_place
local lineKey, fanSeqKey = KEYS[1], KEYS[2]
local now = tonumber(ARGV[1])

local flags = {}
for i = 2, #ARGV do
  local fan = ARGV[i]
  local place = rcall('HGET', fanSeqKey, fan)
  local current = place and readPlace(place)
  if current == 'pre' or (current and rcall('ZSCORE', lineKey, fan)) then
    rcall('HSET', fanSeqKey, fan, formatPlace(current, now))
    flags[#flags + 1] = 1
  else
    flags[#flags + 1] = 0
  end
end
return flags
