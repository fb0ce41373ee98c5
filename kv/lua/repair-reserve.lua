-- Reserves one automatic-repair slot if the hourly budgets and the resource's cool-off allow it.
-- KEYS[1]: every repair of the hour; KEYS[2]: this resource's repairs; KEYS[3]: its cool-off key
-- ARGV[1]: now in ms; ARGV[2]: window in ms; ARGV[3]: max per window; ARGV[4]: max per resource;
-- ARGV[5]: a unique member for this repair
-- Returns {reserved (1/0), repairs in the window, repairs of the resource, cool-off ms left}.
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call("ZREMRANGEBYSCORE", KEYS[1], "-inf", now - window)
redis.call("ZREMRANGEBYSCORE", KEYS[2], "-inf", now - window)
local all = redis.call("ZCARD", KEYS[1])
local resource = redis.call("ZCARD", KEYS[2])
local cooldown = redis.call("PTTL", KEYS[3])
if cooldown < 0 then cooldown = 0 end
if cooldown > 0 or all >= tonumber(ARGV[3]) or resource >= tonumber(ARGV[4]) then
  return {0, all, resource, cooldown}
end
redis.call("ZADD", KEYS[1], now, ARGV[5])
redis.call("ZADD", KEYS[2], now, ARGV[5])
redis.call("PEXPIRE", KEYS[1], window)
redis.call("PEXPIRE", KEYS[2], window)
return {1, all + 1, resource + 1, 0}
