-- Takes a slot in each of several sliding windows at once, or in none.
-- KEYS[i]: window i (a sorted set of takes scored by their time in ms)
-- ARGV[1]: a unique member for this take; then per window i: ARGV[2i] length in ms, ARGV[2i+1] slots
-- Returns 0 when a slot was taken in every window, else how many ms until all have a free slot.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local wait = 0
for i, key in ipairs(KEYS) do
  local window = tonumber(ARGV[2 * i])
  local slots = tonumber(ARGV[2 * i + 1])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  local count = redis.call('ZCARD', key)
  if count >= slots then
    -- the take that must leave for a slot to free
    local blocking = redis.call('ZRANGE', key, count - slots, count - slots, 'WITHSCORES')
    wait = math.max(wait, tonumber(blocking[2]) + window - now + 1)
  end
end
if wait > 0 then return math.max(1, wait) end
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, ARGV[1])
  redis.call('PEXPIRE', key, tonumber(ARGV[2 * i]))
end
return 0
