--[[ end_pass: end a fan's admission pass (purchase completed, or revoked) and free its slot.
  KEYS[1] tq:{ev:ID}:meta    HASH  counters ('completed', 'revoked')
  KEYS[2] tq:{ev:ID}:active  ZSET  fan -> admission pass expiry (ms)
  KEYS[3] tq:{ev:ID}:passes  HASH  fan -> live admission pass id
  ARGV[1] fan id   ARGV[2] now_ms   ARGV[3] reason: 'completed' | 'revoked'
  ARGV[4] pass id ('' = whichever pass the fan holds)
  Returns 1 a live pass ended | 0 the fan held no live pass (or a different one) ]]
local rcall = redis.call
local metaKey, activeKey, passesKey = KEYS[1], KEYS[2], KEYS[3]
local fan = ARGV[1]
local now = tonumber(ARGV[2])
local reason = ARGV[3]
local wanted = ARGV[4]

local current = rcall('HGET', passesKey, fan)
if not current or (wanted ~= '' and current ~= wanted) then return 0 end
local expires = rcall('ZSCORE', activeKey, fan)
rcall('ZREM', activeKey, fan)
rcall('HDEL', passesKey, fan)
if expires and tonumber(expires) > now then
  rcall('HINCRBY', metaKey, reason, 1)
  return 1
end
return 0
