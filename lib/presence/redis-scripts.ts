/**
 * The Lua scripts behind the Redis presence adapter (see redis.ts for the design). Every script takes
 * the key prefix as ARGV[1]; keys are built inside the scripts, so this needs a single Redis (not
 * Cluster). Each script runs atomically, which is what keeps counts, node records, pending sets and
 * versions consistent whoever runs them.
 */

const common = `
local P = ARGV[1]
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function touched(room, user)
  redis.call('SADD', P .. 'room:' .. room .. ':pending', user)
  redis.call('ZADD', P .. 'dirty', 'NX', now_ms(), room)
end
local function enter(node, member, username)
  if redis.call('SADD', P .. 'node:' .. node .. ':entries', member) == 0 then return end
  local e = cjson.decode(member)
  redis.call('HSET', P .. 'room:' .. e[1] .. ':names', e[2], username)
  if redis.call('HINCRBY', P .. 'room:' .. e[1] .. ':count', e[2], 1) == 1 then touched(e[1], e[2]) end
end
local function leave(node, member)
  if redis.call('SREM', P .. 'node:' .. node .. ':entries', member) == 0 then return end
  local e = cjson.decode(member)
  if redis.call('HINCRBY', P .. 'room:' .. e[1] .. ':count', e[2], -1) <= 0 then
    redis.call('HDEL', P .. 'room:' .. e[1] .. ':count', e[2])
    redis.call('HDEL', P .. 'room:' .. e[1] .. ':names', e[2])
    touched(e[1], e[2])
  end
end
local function drop_node(node)
  for _, member in ipairs(redis.call('SMEMBERS', P .. 'node:' .. node .. ':entries')) do leave(node, member) end
  redis.call('DEL', P .. 'node:' .. node .. ':entries', P .. 'node:' .. node .. ':alive')
  redis.call('SREM', P .. 'nodes', node)
end
`;

/** ARGV: prefix, node, member (JSON [room, user, connection]), username. */
export const ADD = `${common}
redis.call('SADD', P .. 'nodes', ARGV[2])
enter(ARGV[2], ARGV[3], ARGV[4])
return 1`;

/** ARGV: prefix, node, member. */
export const REMOVE = `${common}
leave(ARGV[2], ARGV[3])
return 1`;

/** ARGV: prefix, node, ttlMs. 0 when the node was already given up for dead (it must resync). */
export const HEARTBEAT = `${common}
if not redis.call('SET', P .. 'node:' .. ARGV[2] .. ':alive', '1', 'PX', ARGV[3], 'XX') then return 0 end
if redis.call('SISMEMBER', P .. 'nodes', ARGV[2]) == 0 then return 0 end
return 1`;

/**
 * ARGV: prefix, node, ttlMs, then member, username pairs: everything the node reports now. Makes the
 * node's record exactly that (counts adjusted by the difference) and marks it alive.
 */
export const RESYNC = `${common}
local node = ARGV[2]
local want = {}
for i = 4, #ARGV, 2 do want[ARGV[i]] = ARGV[i + 1] end
for _, member in ipairs(redis.call('SMEMBERS', P .. 'node:' .. node .. ':entries')) do
  if want[member] == nil then leave(node, member) end
end
for member, username in pairs(want) do enter(node, member, username) end
redis.call('SET', P .. 'node:' .. node .. ':alive', '1', 'PX', ARGV[3])
redis.call('SADD', P .. 'nodes', node)
return 1`;

/** ARGV: prefix, node. A node leaving cleanly. */
export const DROP_NODE = `${common}
drop_node(ARGV[2])
return 1`;

/** ARGV: prefix. Drops every node whose heart-beat key has expired; returns how many. */
export const SWEEP = `${common}
local dropped = 0
for _, node in ipairs(redis.call('SMEMBERS', P .. 'nodes')) do
  if redis.call('EXISTS', P .. 'node:' .. node .. ':alive') == 0 then
    drop_node(node)
    dropped = dropped + 1
  end
end
return dropped`;

/**
 * ARGV: prefix, coalesceMs, maxRooms. For each room whose first pending change is at least coalesceMs
 * old: compares its pending users with the published roster, and when something changed updates the
 * published roster, takes the next version (INCR) and publishes the diff on P..'diff:'..room.
 * Returns how many rooms it took (the caller repeats while that equals maxRooms).
 */
export const FLUSH = `${common}
local function users_json(list)
  if #list == 0 then return '[]' end
  local parts = {}
  for i, u in ipairs(list) do
    parts[i] = '{"id":' .. cjson.encode(u[1]) .. ',"username":' .. cjson.encode(u[2]) .. '}'
  end
  return '[' .. table.concat(parts, ',') .. ']'
end
local due = redis.call('ZRANGEBYSCORE', P .. 'dirty', '-inf', now_ms() - tonumber(ARGV[2]), 'LIMIT', 0, tonumber(ARGV[3]))
for _, room in ipairs(due) do
  redis.call('ZREM', P .. 'dirty', room)
  local base = P .. 'room:' .. room
  local pending = redis.call('SMEMBERS', base .. ':pending')
  redis.call('DEL', base .. ':pending')
  local joined, left = {}, {}
  for _, user in ipairs(pending) do
    local name = redis.call('HGET', base .. ':names', user)
    local was = redis.call('HGET', base .. ':published', user)
    if name and not was then
      joined[#joined + 1] = { user, name }
      redis.call('HSET', base .. ':published', user, name)
    elseif was and not name then
      left[#left + 1] = { user, was }
      redis.call('HDEL', base .. ':published', user)
    end
  end
  if #joined + #left > 0 then
    local version = redis.call('INCR', base .. ':version')
    redis.call('PUBLISH', P .. 'diff:' .. room, '{"type":"diff","roomId":' .. cjson.encode(room) ..
      ',"version":' .. version .. ',"joined":' .. users_json(joined) .. ',"left":' .. users_json(left) .. '}')
  end
end
return #due`;

/** ARGV: prefix, room. The published roster and its version, read together: { version, id, name, ... }. */
export const SNAPSHOT = `
local P = ARGV[1]
local base = P .. 'room:' .. ARGV[2]
local reply = { tonumber(redis.call('GET', base .. ':version') or '0') }
for _, v in ipairs(redis.call('HGETALL', base .. ':published')) do reply[#reply + 1] = v end
return reply`;
