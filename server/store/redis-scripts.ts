/**
 * The Lua scripts of the Redis store: each per-conversation change is one of these,
 * over keys that share the conversation's hash tag.
 */
import { createHash } from "node:crypto";

export interface Script {
  source: string;
  sha: string;
}

const script = (body: string): Script => {
  const source = LUA_PRELUDE + body;
  return { source, sha: createHash("sha1").update(source).digest("hex") };
};

const LUA_PRELUDE = `
local function fail(code) return { code } end
`;

/** KEYS conv, msgs, cids. ARGV clientId ('' = none), message JSON minus its opening '{', preview, updatedAt, '1' when an assignee is required, that assignee. */
export const APPEND = script(`
if redis.call('EXISTS', KEYS[1]) == 0 then return fail('not_found') end
if ARGV[1] ~= '' then
  local seq = redis.call('HGET', KEYS[3], ARGV[1])
  if seq then
    local last = tonumber(redis.call('HGET', KEYS[1], 'lastSeq'))
    return { 'ok', redis.call('LINDEX', KEYS[2], tonumber(seq) - last - 1), 1, redis.call('HGETALL', KEYS[1]) }
  end
end
local c = redis.call('HMGET', KEYS[1], 'status', 'assigneeId')
if c[1] == 'closed' then return fail('conversation_closed') end
if ARGV[5] == '1' and c[2] ~= ARGV[6] then return fail('forbidden') end
local seq = redis.call('HINCRBY', KEYS[1], 'lastSeq', 1)
local msg = '{"seq":' .. seq .. ',' .. ARGV[2]
redis.call('RPUSH', KEYS[2], msg)
if ARGV[1] ~= '' then redis.call('HSET', KEYS[3], ARGV[1], seq) end
redis.call('HSET', KEYS[1], 'preview', ARGV[3], 'updatedAt', ARGV[4])
return { 'ok', msg, 0, redis.call('HGETALL', KEYS[1]) }
`);

/** KEYS conv. ARGV assignee id, assignee name, now. */
export const CLAIM = script(`
local prev = redis.call('HGETALL', KEYS[1])
if #prev == 0 then return fail('not_found') end
local status = redis.call('HGET', KEYS[1], 'status')
if status == 'closed' then return fail('conversation_closed') end
if status == 'assigned' then return fail('already_claimed') end
redis.call('HSET', KEYS[1], 'status', 'assigned', 'assigneeId', ARGV[1], 'assigneeName', ARGV[2], 'updatedAt', ARGV[3])
return { 'ok', prev, redis.call('HGETALL', KEYS[1]) }
`);

/** KEYS conv. ARGV actor role, agent id, '1' when admin, now. */
export const RELEASE = script(`
local prev = redis.call('HGETALL', KEYS[1])
if #prev == 0 then return fail('not_found') end
local c = redis.call('HMGET', KEYS[1], 'status', 'assigneeId')
if c[1] == 'closed' then return fail('conversation_closed') end
if ARGV[1] ~= 'agent' or c[1] ~= 'assigned' then return fail('forbidden') end
if ARGV[3] ~= '1' and c[2] ~= ARGV[2] then return fail('forbidden') end
redis.call('HSET', KEYS[1], 'status', 'queued', 'updatedAt', ARGV[4])
redis.call('HDEL', KEYS[1], 'assigneeId', 'assigneeName')
return { 'ok', prev, redis.call('HGETALL', KEYS[1]) }
`);

/** KEYS conv. ARGV actor role, agent id, '1' when admin, now. */
export const CLOSE = script(`
local prev = redis.call('HGETALL', KEYS[1])
if #prev == 0 then return fail('not_found') end
local c = redis.call('HMGET', KEYS[1], 'status', 'assigneeId')
if c[1] == 'closed' then return fail('conversation_closed') end
if ARGV[1] == 'agent' and ARGV[3] ~= '1' and c[2] ~= ARGV[2] then return fail('forbidden') end
redis.call('HSET', KEYS[1], 'status', 'closed', 'updatedAt', ARGV[4], 'closedAt', ARGV[4])
return { 'ok', prev, redis.call('HGETALL', KEYS[1]) }
`);

/** KEYS conv. ARGV '1' or '0'. Never creates a record. */
export const SET_ONLINE = script(`
if redis.call('EXISTS', KEYS[1]) == 0 then return fail('not_found') end
redis.call('HSET', KEYS[1], 'customerOnline', ARGV[1])
return { 'ok', redis.call('HGETALL', KEYS[1]) }
`);

/** KEYS person's sockets. ARGV expiry, socket id. 1 when the person had none. */
export const PRESENCE_JOIN = script(`
local n = redis.call('ZCARD', KEYS[1])
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
if n == 0 then return 1 end
return 0
`);

/**
 * KEYS person's sockets. ARGV now. 1: this call removed the last socket (the person is
 * gone, and no other call will say so); 0: no sockets, someone else reported it; -1: alive.
 */
export const PRESENCE_SWEEP = script(`
local removed = redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('EXISTS', KEYS[1]) == 1 then return -1 end
if removed > 0 then return 1 end
return 0
`);

/** KEYS cobrowse. ARGV next status, next JSON, then each accepted current status ('' = none). */
export const COBROWSE_CAS = script(`
local current = redis.call('HGET', KEYS[1], 'status') or ''
for i = 3, #ARGV do
  if ARGV[i] == current then
    redis.call('HSET', KEYS[1], 'status', ARGV[1], 'json', ARGV[2])
    return 1
  end
end
return 0
`);
