/**
 * The job store's Lua scripts. Every key they touch shares the `{<prefix>jobs}` hash tag (the
 * snapshot, the list index and BullMQ's own keys), so they run on one Redis Cluster slot.
 *
 * The list index: one sorted set per (state, scope) with the job's `createdAt` as score, newest
 * first by ZREVRANGE. Scopes: every job, by job name (`:n:<name>`), by owner (`:o:<owner>`), and by
 * both (`:o:<owner>:n:<name>`), with `all` as a state holding every job whatever its state. Owner
 * and name are stored encoded in the snapshot (`_o`, `_n`) so a script can name the sets. Every
 * change of membership bumps `<idx>version`, which hub nodes poll to push list changes.
 */

/** Shared functions: `variants(idx, state, o, n)` and `move(key, idx, from, to)` (from/to false = none). */
const PRELUDE = `
local function variants(idx, st, o, n)
  return { idx .. st, idx .. st .. ':n:' .. n, idx .. st .. ':o:' .. o, idx .. st .. ':o:' .. o .. ':n:' .. n }
end
local function move(key, idx, from, to)
  local f = redis.call('HMGET', key, 'jobId', '_o', '_n', 'createdAt')
  local id, o, n, score = f[1], f[2], f[3], f[4]
  if not id or not o or not n then return end
  if from then for _, k in ipairs(variants(idx, from, o, n)) do redis.call('ZREM', k, id) end end
  if to then for _, k in ipairs(variants(idx, to, o, n)) do redis.call('ZADD', k, score, id) end end
  if not from then for _, k in ipairs(variants(idx, 'all', o, n)) do redis.call('ZADD', k, score, id) end end
  if not to then for _, k in ipairs(variants(idx, 'all', o, n)) do redis.call('ZREM', k, id) end end
  redis.call('INCR', idx .. 'version')
end
local function terminal(s) return s == 'completed' or s == 'failed' or s == 'cancelled' end
`;

/**
 * Creates a job's snapshot and indexes it. KEYS[1] snapshot, KEYS[2] idempotency key ('' for none);
 * ARGV[1] retention s, ARGV[2] index prefix, ARGV[3] job id, then field/value pairs. With an
 * idempotency key seen in the last 24 h: returns {0, first job id} and writes nothing.
 */
export const CREATE_SCRIPT = `${PRELUDE}
if KEYS[2] ~= '' then
  local first = redis.call('GET', KEYS[2])
  if first then return { 0, first } end
  redis.call('SET', KEYS[2], ARGV[3], 'EX', 86400)
end
for i = 4, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[1]))
move(KEYS[1], ARGV[2], false, redis.call('HGET', KEYS[1], 'state'))
return { 1, ARGV[3] }
`;

/**
 * Applies an update atomically: refuses it when the job is unknown or already terminal (so no
 * progress can follow the final state, whoever wins a race), bumps `seq`, sets the given fields
 * (an empty value deletes the field), renews the retention, moves the job in the list index when
 * its state changed, and returns the whole hash. One round trip per update.
 * ARGV[1] retention s, ARGV[2] index prefix, then optionally '?unless-cancel-requested' (returns
 * 'cancel-requested' and changes nothing when a cancel was requested: a worker's start and its
 * cancel check in one round trip), then field/value pairs.
 */
export const UPDATE_SCRIPT = `${PRELUDE}
local state = redis.call('HGET', KEYS[1], 'state')
if not state or terminal(state) then return false end
local first = 3
if ARGV[3] == '?unless-cancel-requested' then
  if redis.call('HGET', KEYS[1], 'cancelRequested') == '1' then return 'cancel-requested' end
  first = 4
end
redis.call('HINCRBY', KEYS[1], 'seq', 1)
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[1]))
for i = first, #ARGV, 2 do
  if ARGV[i + 1] == '' then redis.call('HDEL', KEYS[1], ARGV[i]) else redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
end
local now = redis.call('HGET', KEYS[1], 'state')
if now ~= state then move(KEYS[1], ARGV[2], state, now) end
return redis.call('HGETALL', KEYS[1])
`;

/**
 * Reopens a failed job for a retry: `queued`, seq + 1, progress 0, the end fields cleared.
 * ARGV[1] retention s, ARGV[2] index prefix, ARGV[3] now. Returns the hash, or the state found
 * (a string) when it is not failed, or false for an unknown job.
 */
export const REOPEN_SCRIPT = `${PRELUDE}
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return false end
if state ~= 'failed' then return state end
redis.call('HINCRBY', KEYS[1], 'seq', 1)
redis.call('HSET', KEYS[1], 'state', 'queued', 'progress', '0', 'updatedAt', ARGV[3])
redis.call('HDEL', KEYS[1], 'finishedAt', 'stage', 'result', 'error', 'cancelRequested', 'startedAt')
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[1]))
move(KEYS[1], ARGV[2], 'failed', 'queued')
return redis.call('HGETALL', KEYS[1])
`;

/** Deletes a finished job's snapshot and index entries. Returns 1, the state found when not finished, or false. */
export const REMOVE_SCRIPT = `${PRELUDE}
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return false end
if not terminal(state) then return state end
move(KEYS[1], ARGV[1], state, false)
redis.call('DEL', KEYS[1])
return 1
`;

/** Marks a cancel request unless the job already ended; returns the state it found (or false). */
export const CANCEL_SCRIPT = `
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return false end
if state ~= 'completed' and state ~= 'failed' and state ~= 'cancelled' then redis.call('HSET', KEYS[1], 'cancelRequested', '1') end
return state
`;
