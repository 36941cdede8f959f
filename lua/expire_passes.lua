--[[ expire_passes: remove admission passes whose session has run out, freeing their slots.
  KEYS[1] tq:{ev:ID}:active  ZSET  fan -> admission pass expiry (ms)
  KEYS[2] tq:{ev:ID}:passes  HASH  fan -> live admission pass id
  ARGV[1] now_ms   ARGV[2] limit (passes per call)
  Returns number of passes expired ]]
local rcall = redis.call
local activeKey, passesKey = KEYS[1], KEYS[2]
local now = tonumber(ARGV[1])

-- A pass is live while its expiry is > now, so expiry == now is already over.
local fans = rcall('ZRANGEBYSCORE', activeKey, '-inf', now, 'LIMIT', 0, tonumber(ARGV[2]))
for _, fan in ipairs(fans) do
  rcall('ZREM', activeKey, fan)
  rcall('HDEL', passesKey, fan)
end
return #fans
