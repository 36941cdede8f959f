--[[ hit_rate_limit: count `cost` hits in one fixed window, unless they would pass the limit.
  KEYS[1] tq:{rl:SCOPE:SUBJECT}:WINDOW  STRING  hits counted in this window, always with a TTL
  ARGV[1] cost (>= 1)   ARGV[2] limit (>= 0)   ARGV[3] now_ms   ARGV[4] window_ms
  Returns {1, hits, ms_left} counted: hits now in the window, ms until it ends
        | {0, hits, ms_left} refused: nothing counted ]]
local rcall = redis.call
local counterKey = KEYS[1]
local cost = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local nowMs = tonumber(ARGV[3])
local windowMs = tonumber(ARGV[4])

local msLeft = windowMs - nowMs % windowMs
local hits = tonumber(rcall('GET', counterKey) or '0')
if hits + cost > limit then
  -- Refused hits are not counted: a caller that backs off gets its quota back on time.
  return {0, hits, msLeft}
end
hits = rcall('INCRBY', counterKey, cost)
-- Set in the same script as the count, so no crash leaves a counter that never expires.
-- One window of grace past the end: a caller whose clock trails Redis's still finds it.
rcall('PEXPIRE', counterKey, msLeft + windowMs)
return {1, hits, msLeft}
