/**
 * @module A Lua script run by EVALSHA (the script's text travels once per connection): NOSCRIPT —
 * a restarted or flushed Redis — falls back to EVAL, which loads it again.
 */
import { createHash } from 'node:crypto';
import type { ChainableCommander } from 'ioredis';
import type { RedisClient } from './redis-link.js';

export interface RedisScript {
  run(c: RedisClient, keys: readonly string[], args: ReadonlyArray<string | number>): Promise<unknown>;
  /** Queues the script on a pipeline (EVALSHA; NOSCRIPT fails that entry, so call `load` on up). */
  queue(p: ChainableCommander, keys: readonly string[], args: ReadonlyArray<string | number>): void;
  /** Loads the script (on every reconnection), so pipelined EVALSHAs find it. */
  load(c: RedisClient): Promise<unknown>;
}

export function redisScript(lua: string): RedisScript {
  const sha = createHash('sha1').update(lua).digest('hex');
  return {
    async run(c, keys, args) {
      try {
        return await c.evalsha(sha, keys.length, ...keys, ...args);
      } catch (err) {
        if (!String((err as Error).message).includes('NOSCRIPT')) throw err;
        return c.eval(lua, keys.length, ...keys, ...args);
      }
    },
    queue(p, keys, args) {
      p.evalsha(sha, keys.length, ...keys, ...args);
    },
    load(c) {
      return c.script('LOAD', lua);
    },
  };
}

/** Lua helpers shared by the scripts: bucketed sliding windows (60 buckets) and lease sets. */
export const LUA_LIB = `
local function wsum(key, bucketMs, now)
  local cur = math.floor(now / bucketMs)
  local v = redis.call('HGETALL', key)
  local sum = 0
  local live = {}
  for i = 1, #v, 2 do
    local id = tonumber(v[i])
    if id > cur - 60 then
      local n = tonumber(v[i + 1])
      sum = sum + n
      live[#live + 1] = {id, n}
    else
      redis.call('HDEL', key, v[i])
    end
  end
  return sum, cur, live
end
local function wretry(live, bucketMs, now, excess, windowMs)
  table.sort(live, function(a, b) return a[1] < b[1] end)
  for _, e in ipairs(live) do
    excess = excess - e[2]
    if excess <= 0 then return math.max(1, (e[1] + 60) * bucketMs - now) end
  end
  return windowMs
end
local function wadd(key, cur, amount, windowMs)
  redis.call('HINCRBYFLOAT', key, string.format('%d', cur), amount)
  redis.call('PEXPIRE', key, windowMs * 2)
end
local function wconsume(key, bucketMs, windowMs, limit, amount, now)
  local sum, cur, live = wsum(key, bucketMs, now)
  local fits
  if amount == 0 then fits = sum < limit else fits = sum + amount <= limit end
  if not fits then
    if amount > limit then return windowMs end
    local excess = sum + amount - limit
    if amount == 0 then excess = excess + 1e-9 end
    return wretry(live, bucketMs, now, excess, windowMs)
  end
  if amount ~= 0 then wadd(key, cur, amount, windowMs) end
  return 0
end
local function ltake(key, limit, member, now, ttl)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  if redis.call('ZCARD', key) >= limit then return false end
  redis.call('ZADD', key, now + ttl, member)
  redis.call('PEXPIRE', key, ttl * 2)
  return true
end
`;
