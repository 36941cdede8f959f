--[[ read_fans: where each of some fans stands, with the counters it was computed at
  (a socket's baseline; later positions follow from read_positions snapshots).
  KEYS[1] tq:{ev:ID}:meta      HASH  counters (admitted, departed)
  KEYS[2] tq:{ev:ID}:line      ZSET  fan -> sequence number (waiting fans)
  KEYS[3] tq:{ev:ID}:fanseq    HASH  fan -> '<seq>:<last heartbeat ms>' or 'pre:<ms>'
  KEYS[4] tq:{ev:ID}:active    ZSET  fan -> admission pass expiry (ms)
  KEYS[5] tq:{ev:ID}:passes    HASH  fan -> live admission pass id
  ARGV[1] now_ms   ARGV[2..n] fan ids
  Returns {admitted_total, departed_total, {state, seq, ahead, pass_id, pass_expires_ms}...}
    state: 'none' | 'prequeue' | 'waiting' | 'admitted' | 'ended' (pass used/expired/revoked) ]]
local rcall = redis.call
-- @include fan_place
local metaKey, lineKey, fanSeqKey, activeKey, passesKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local now = tonumber(ARGV[1])

local counters = rcall('HMGET', metaKey, 'admitted', 'departed')
local out = {tonumber(counters[1] or '0'), tonumber(counters[2] or '0')}
for i = 2, #ARGV do
  local fan = ARGV[i]
  local place = rcall('HGET', fanSeqKey, fan)
  local current = place and readPlace(place)
  local row
  if not current then
    row = {'none', 0, -1, '', 0}
  elseif current == 'pre' then
    row = {'prequeue', 0, -1, '', 0}
  else
    local rank = rcall('ZRANK', lineKey, fan)
    if rank then
      row = {'waiting', tonumber(current), rank, '', 0}
    else
      local passId = rcall('HGET', passesKey, fan)
      local expires = rcall('ZSCORE', activeKey, fan)
      if passId and expires and tonumber(expires) > now then
        row = {'admitted', tonumber(current), 0, passId, tonumber(expires)}
      else
        row = {'ended', tonumber(current), -1, '', 0}
      end
    end
  end
  out[#out + 1] = row
end
return out
