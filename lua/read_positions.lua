--[[ read_positions: one snapshot of a drop from which a gateway computes every socket's
  position (positions derive from sequence numbers and these counters).
  KEYS[1] tq:{ev:ID}:meta        HASH  config and counters (admitted, departed, ...)
  KEYS[2] tq:{ev:ID}:line        ZSET  waiting fans
  KEYS[3] tq:{ev:ID}:prequeue    SET   fans waiting for the opening shuffle
  KEYS[4] tq:{ev:ID}:active      ZSET  fan -> admission pass expiry (ms)
  KEYS[5] tq:{ev:ID}:admissions  ZSET  pass id -> admission time (ms)
  KEYS[6] tq:{ev:ID}:departures  LIST  sequence numbers of fans who left the line
  ARGV[1] now_ms   ARGV[2] departures already seen (index)   ARGV[3] max departures
  ARGV[4] rate window (ms)
  Returns {meta as flat field/value list, line_length, prequeue_size, live_passes,
    admitted_in_window, {departure seqs from the index on}} ]]
local rcall = redis.call
local metaKey, lineKey, prequeueKey, activeKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local admissionsKey, departuresKey = KEYS[5], KEYS[6]
local now = tonumber(ARGV[1])
local from = tonumber(ARGV[2])
local maxDepartures = tonumber(ARGV[3])
local windowMs = tonumber(ARGV[4])

-- LRANGE with a stop of -1 means "to the end": ask for nothing explicitly.
local departures = {}
if maxDepartures > 0 then
  departures = rcall('LRANGE', departuresKey, from, from + maxDepartures - 1)
end
return {
  rcall('HGETALL', metaKey),
  rcall('ZCARD', lineKey),
  rcall('SCARD', prequeueKey),
  rcall('ZCOUNT', activeKey, '(' .. now, '+inf'),
  rcall('ZCOUNT', admissionsKey, '(' .. (now - windowMs), '+inf'),
  departures,
}
