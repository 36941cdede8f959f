--[[ admit_batch: admit fans from the head of the line, paced by admit_per_minute (a token
  bucket) and max_active (live passes), and issue each an admission pass.
  KEYS[1] tq:{ev:ID}:meta        HASH  config, counters, token bucket (tokens, tokens_at_ms)
  KEYS[2] tq:{ev:ID}:line        ZSET  fan -> sequence number (waiting fans)
  KEYS[3] tq:{ev:ID}:fanseq      HASH  fan -> '<seq>:<last heartbeat ms>' or 'pre:<ms>'
  KEYS[4] tq:{ev:ID}:active      ZSET  fan -> admission pass expiry (ms)
  KEYS[5] tq:{ev:ID}:passes      HASH  fan -> live admission pass id
  KEYS[6] tq:{ev:ID}:admissions  ZSET  pass id -> admission time (ms), a sliding window
  KEYS[7] tq:{ev:ID}:prequeue    SET   fans waiting for the opening shuffle
  KEYS[8] tq:{ev:ID}:departures  LIST  sequence numbers of fans who left the line, in order
  ARGV[1] now_ms   ARGV[2] pass nonce (random hex, new per call)   ARGV[3] max per call
  ARGV[4] burst_ms (bucket capacity in ms of rate)   ARGV[5] window_ms (admissions kept)
  ARGV[6] takeover_ms (longest gap between calls a lease takeover explains; 0: none)
  ARGV[7] stale_before_ms (a head fan last heard from earlier leaves the line instead)
  Returns {admitted, live_passes, line_length, reason}
    reason: '' | 'not_open' | 'paused' | 'closed' | 'sold_out' | 'all_held' (every seat in a cart)
  Errors: TQ:NOT_SYNCED ]]
local rcall = redis.call
-- @include drop_phase
-- @include fan_place
local metaKey, lineKey, fanSeqKey, activeKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local passesKey, admissionsKey, prequeueKey, departuresKey = KEYS[5], KEYS[6], KEYS[7], KEYS[8]
local now = tonumber(ARGV[1])
local nonce = ARGV[2]
local maxPerCall = tonumber(ARGV[3])
local burstMs = tonumber(ARGV[4])
local windowMs = tonumber(ARGV[5])
local takeoverMs = tonumber(ARGV[6] or '0')
local staleBefore = tonumber(ARGV[7] or '0')
-- Silent fans met at the head per call, at most: bounds the call after a mass disconnect
-- (the sweep takes the rest).
local maxSkipped = 10000

local m = rcall('HMGET', metaKey, 'synced', 'opened', 'state', SELLOUT_FIELD, 'closes_at_ms',
  'admit_per_minute', 'max_active', 'session_ms', 'tokens', 'tokens_at_ms',
  'prequeue_opens_at_ms')
if not m[1] then return redis.error_reply('TQ:NOT_SYNCED') end
rcall('ZREMRANGEBYSCORE', admissionsKey, '-inf', now - windowMs)
local live = rcall('ZCOUNT', activeKey, '(' .. now, '+inf')
local lineLength = rcall('ZCARD', lineKey)
local sellout = readSellout(m[4])
local phase = dropPhase(m[3], sellout, tonumber(m[11]), tonumber(m[5]), m[2] == '1', now)
local reason = ''
if phase == 'cancelled' or phase == 'closed' then reason = 'closed'
elseif phase == 'sold_out' then reason = 'sold_out'
elseif phase == 'scheduled' or phase == 'prequeue' then reason = 'not_open'
elseif sellout == 'held' then reason = 'all_held'
elseif phase == 'paused' then reason = 'paused' end
if reason ~= '' then return {0, live, lineLength, reason} end

-- Refill: admit_per_minute tokens per minute, at most burst_ms worth banked, so a
-- pause or a full max_active never turns into a burst afterwards. A gap between calls
-- no longer than a takeover (nobody paced while a dead worker's lease ran out) is owed
-- in full: the bank stretches to the gap, so a takeover costs no admissions.
local rate = tonumber(m[6])
local tokens = tonumber(m[9] or '0')
local since = now - tonumber(m[10] or now)
local bankMs = burstMs
if since <= takeoverMs then bankMs = math.max(burstMs, since) end
local capacity = math.max(1, rate * bankMs / 60000)
if since > 0 then tokens = math.min(capacity, tokens + since * rate / 60000) end

local count = math.min(math.floor(tokens), tonumber(m[7]) - live, maxPerCall, lineLength)
local admitted, skipped = 0, 0
if count > 0 then
  local expires = now + tonumber(m[8])
  -- The sweep (sweep_stale) goes round the line in bounded steps, so a silent fan may still
  -- be at the head: each head fan's heartbeat is checked here, and the silent leave the line
  -- (a departure) instead, so the head admitted is always the earliest joiner still present.
  while admitted < count and skipped < maxSkipped do
    local head = rcall('ZRANGE', lineKey, 0, count - admitted - 1)
    if #head == 0 then break end
    for _, fan in ipairs(head) do
      local place = rcall('HGET', fanSeqKey, fan) or ''
      local _, beat = readPlace(place)
      if placeHeartbeat(beat, now) < staleBefore then
        leavePlace(prequeueKey, lineKey, fanSeqKey, departuresKey, fan, place)
        skipped = skipped + 1
      else
        local passId = nonce .. '.' .. fan
        rcall('ZREM', lineKey, fan)
        rcall('ZADD', activeKey, expires, fan)
        rcall('HSET', passesKey, fan, passId)
        rcall('ZADD', admissionsKey, now, passId)
        admitted = admitted + 1
      end
    end
  end
  if admitted > 0 then rcall('HINCRBY', metaKey, 'admitted', admitted) end
  if skipped > 0 then rcall('HINCRBY', metaKey, 'departed', skipped) end
  tokens = tokens - admitted
end
rcall('HSET', metaKey, 'tokens', tostring(tokens), 'tokens_at_ms', now)
return {admitted, live + admitted, lineLength - admitted - skipped, reason}
