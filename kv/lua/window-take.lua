-- Takes a slot of a sliding window if one is free.
-- KEYS[1]: the window (a sorted set of takes scored by their time in ms)
-- ARGV[1]: window length in ms; ARGV[2]: slots per window; ARGV[3]: a unique member for this take
-- Returns 0 when the slot was taken, else how many ms until the oldest take leaves the window.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(1, tonumber(oldest[2]) + window - now + 1)
