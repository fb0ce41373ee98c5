-- Counts a new incident's arrival in a chat, once, and remembers whether it got its own card.
-- KEYS[1]: the chat's arrivals (a sorted set of incident ids scored by arrival time in ms)
-- KEYS[2]: the flag "this incident already got its own card in this chat"
-- ARGV[1]: window length in ms; ARGV[2]: the storm threshold; ARGV[3]: the incident id;
-- ARGV[4]: how long the flag lives in ms
-- Returns -1 when the incident already got its card, else how many others arrived in the window.
if redis.call('EXISTS', KEYS[2]) == 1 then return -1 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local others = redis.call('ZCARD', KEYS[1])
if redis.call('ZSCORE', KEYS[1], ARGV[3]) then others = others - 1 end
redis.call('ZADD', KEYS[1], 'NX', now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], window)
if others < tonumber(ARGV[2]) then redis.call('SET', KEYS[2], '1', 'PX', ARGV[4]) end
return others
