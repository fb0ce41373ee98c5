-- The automatic-repair counters as they stand, without taking a slot.
-- KEYS: as repair-reserve.lua. ARGV[1]: now in ms; ARGV[2]: window in ms
-- Returns {repairs in the window, repairs of the resource, cool-off ms left}.
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local all = redis.call("ZCOUNT", KEYS[1], now - window, "+inf")
local resource = redis.call("ZCOUNT", KEYS[2], now - window, "+inf")
local cooldown = redis.call("PTTL", KEYS[3])
if cooldown < 0 then cooldown = 0 end
return {all, resource, cooldown}
