--[[ join_line: give a fan one place in a drop's line (or the pre-queue); idempotent.
  KEYS[1] tq:{ev:ID}:meta      HASH  drop config (synced) and counters
  KEYS[2] tq:{ev:ID}:prequeue  SET   fans waiting for the opening shuffle
  KEYS[3] tq:{ev:ID}:line      ZSET  fan -> sequence number (waiting fans only)
  KEYS[4] tq:{ev:ID}:fanseq    HASH  fan -> '<seq>:<last heartbeat ms>' or 'pre:<ms>'
  KEYS[5] tq:{ev:ID}:active    ZSET  fan -> admission pass expiry (ms)
  KEYS[6] tq:{ev:ID}:passes    HASH  fan -> live admission pass id
  ARGV[1] fan id   ARGV[2] now_ms   ARGV[3] '1' if the caller knows the fan's email is
    verified (asked only after an UNVERIFIED refusal: most drops do not need it)
  Returns {created 0|1, state, seq, ahead, pass_id, pass_expires_ms, prequeue_size}
    state: 'prequeue' (seq 0, ahead -1) | 'waiting' | 'admitted'
  Errors: TQ:NOT_SYNCED (load the drop into meta, retry) | TQ:NOT_VISIBLE (fans may not see
    the drop: its event is a draft) | TQ:LOTTERY (no line: enter the draw) | TQ:OPEN_PENDING
    (run open_line, retry) | TQ:CLOSED:closed|cancelled|ended | TQ:SOLD_OUT
    | TQ:NOT_OPEN:<prequeue_opens_at_ms> | TQ:UNVERIFIED (the drop takes only verified
    emails and ARGV[3] is not '1': check the fan's account, retry with '1') ]]
local rcall = redis.call
-- @include drop_phase
-- @include fan_place
local metaKey, prequeueKey, lineKey, fanSeqKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local activeKey, passesKey = KEYS[5], KEYS[6]
local fan = ARGV[1]
local now = tonumber(ARGV[2])

local m = rcall('HMGET', metaKey, 'synced', 'state', SELLOUT_FIELD, 'prequeue_opens_at_ms',
  'opens_at_ms', 'closes_at_ms', 'opened', 'visible', 'mode', 'verified_only')
-- Meta synced before visibility (or verified_only) was part of it counts as not synced.
if not m[1] or not m[8] or not m[10] then return redis.error_reply('TQ:NOT_SYNCED') end
-- Checked on every join, from meta: the herd never reaches Postgres to ask.
if m[8] ~= '1' then return redis.error_reply('TQ:NOT_VISIBLE') end
if m[9] == 'lottery' then return redis.error_reply('TQ:LOTTERY') end
local state = m[2]
local phase = dropPhase(state, readSellout(m[3]), tonumber(m[4]), tonumber(m[6]), m[7] == '1',
  now)
if phase == 'cancelled' or phase == 'closed' then
  local why = (state == 'closed' or state == 'cancelled') and state or 'ended'
  return redis.error_reply('TQ:CLOSED:' .. why)
end
if phase == 'sold_out' then return redis.error_reply('TQ:SOLD_OUT') end
if m[10] == '1' and ARGV[3] ~= '1' then return redis.error_reply('TQ:UNVERIFIED') end

-- A fan who already holds a place gets it back: retries, second tabs, reconnects.
local place = rcall('HGET', fanSeqKey, fan)
local current = place and readPlace(place)
if current == 'pre' then
  rcall('HSET', fanSeqKey, fan, formatPlace('pre', now))
  return {0, 'prequeue', 0, -1, '', 0, rcall('SCARD', prequeueKey)}
end
if current then
  local rank = rcall('ZRANK', lineKey, fan)
  if rank then
    rcall('HSET', fanSeqKey, fan, formatPlace(current, now))
    return {0, 'waiting', tonumber(current), rank, '', 0, 0}
  end
  local passId = rcall('HGET', passesKey, fan)
  local expires = rcall('ZSCORE', activeKey, fan)
  if passId and expires and tonumber(expires) > now then
    return {0, 'admitted', tonumber(current), 0, passId, tonumber(expires), 0}
  end
  -- The fan's pass has ended (used, expired, revoked): a new place at the back.
  rcall('ZREM', activeKey, fan)
  rcall('HDEL', passesKey, fan)
end

if phase == 'scheduled' then return redis.error_reply('TQ:NOT_OPEN:' .. m[4]) end
if phase == 'prequeue' then
  -- Nobody gets a sequence number before the pre-queue has been shuffled in.
  if now >= tonumber(m[5]) then return redis.error_reply('TQ:OPEN_PENDING') end
  rcall('SADD', prequeueKey, fan)
  rcall('HSET', fanSeqKey, fan, formatPlace('pre', now))
  return {1, 'prequeue', 0, -1, '', 0, rcall('SCARD', prequeueKey)}
end

local seq = rcall('HINCRBY', metaKey, 'next_seq', 1)
rcall('ZADD', lineKey, seq, fan)
rcall('HSET', fanSeqKey, fan, formatPlace(seq, now))
return {1, 'waiting', seq, rcall('ZRANK', lineKey, fan), '', 0, 0}
