import { createHash } from 'node:crypto';
import { LISTED_JOB_STATES } from '@switchboard/contracts';
import type { Cluster, Redis } from 'ioredis';

/**
 * The job store's Lua scripts. Every key they touch shares the `{<prefix>jobs}` hash tag (the
 * snapshot, the list index and BullMQ's own keys), so they run on one Redis Cluster slot. Each
 * script reads the snapshot once, writes it with one HSET (and at most one HDEL), and is called by
 * SHA (`runScript`): a state change costs one round trip and nine commands inside the script,
 * five of them the list index (four ZADDs and the version). A worker's `active` skips the index
 * (below): a job costs the index 12 ZADDs and two version bumps (create, end), not 16 and three.
 *
 * The list index: two sorted sets per scope. Scopes (key suffixes): every job (''), one job name
 * (`:n:<name>`), one owner (`:o:<owner>`), both (`:o:<owner>:n:<name>`); owner and name are stored
 * encoded in the snapshot (`_o`, `_n`) so a script can name the sets.
 * - `<idx>time<scope>`: every job of the scope, score `createdAt`; written when the job is created
 *   and when it is removed, never on a state change. Pages of every state come from it.
 * - `<idx>state<scope>`: every job of the scope, score `band × 10^13 + createdAt`, the band being
 *   the state's place in LISTED_JOB_STATES (`queued, delayed, active, completed, failed, cancelled`: 0-5). A state
 *   change is one ZADD per scope (the new score replaces the old one), so the four scopes cost
 *   four commands per change. A state's jobs are one score range (ZCOUNT gives its count, exact)
 *   and, newest first, one run of reverse ranks (a page is a ZREVRANGE by rank, see PAGE_SCRIPT).
 *   10^13 ms is the year 2286: `createdAt` never reaches the next band.
 * Every change of membership (create, state change, remove) bumps `<idx>version`, which hub nodes
 * poll to push list changes.
 * A worker writes `active` without the index (UPDATE_SCRIPT with an empty index prefix) and moves
 * the job to the `active` band ACTIVE_INDEX_DELAY_MS (100 ms) later if it still runs
 * (INDEX_ACTIVE_SCRIPT): most jobs end sooner, and their end's ZADDs replace the earlier band
 * whatever it was, so a quick job goes from `queued` (or `delayed`) to its end in the list. Only
 * `active` is ever left out, so the index holds either the job's state or, for up to 100 ms of a
 * run, the state before it.
 */

/** A script and its SHA1, for EVALSHA. */
export interface LuaScript {
  readonly body: string;
  readonly sha: string;
}

function lua(body: string): LuaScript {
  return { body, sha: createHash('sha1').update(body).digest('hex') };
}

/**
 * Runs a script by its SHA (EVALSHA: the script's text is not sent again), falling back to EVAL
 * when Redis does not hold it yet (a new or restarted server, SCRIPT FLUSH, a failover), which
 * also loads it. One round trip in the usual case. `byText`: EVAL at once, for a call that must
 * not fail for want of the script (one sent in the same write as a command that depends on it).
 */
export async function runScript(client: Redis | Cluster, script: LuaScript, keys: readonly string[], args: readonly (string | number)[], byText = false): Promise<unknown> {
  if (byText) return client.eval(script.body, keys.length, ...keys, ...args);
  try {
    return await client.evalsha(script.sha, keys.length, ...keys, ...args);
  } catch (err) {
    if (!/NOSCRIPT/.test((err as Error)?.message ?? '')) throw err;
    return client.eval(script.body, keys.length, ...keys, ...args);
  }
}

/** Score range of a state band in the `state` sets, for ZCOUNT: `[band × 10^13, (band + 1) × 10^13)`. */
export function bandRange(band: number): [string, string] {
  return [`${band}0000000000000`, `(${band + 1}0000000000000`];
}

/**
 * Shared functions. `index(idx, id, o, n, at, state, created)`: puts the job in its four scopes'
 * `state` sets with the band of `state` (and in the `time` sets too when `created`), or takes it
 * out of all eight sets when `state` is false; then bumps the version. Does nothing for a record
 * without id, owner, name or createdAt.
 */
const PRELUDE = `
local BAND = { ${LISTED_JOB_STATES.map((s, i) => `${s} = ${i}`).join(', ')} }
local function index(idx, id, o, n, at, state, created)
  if not (id and o and n and at) then return end
  -- Scores as decimal strings (\`at\` is one): formatting a Lua number for ZADD costs more than the ZADD.
  local score = state and ((BAND[state] or 9) .. string.rep('0', 13 - #at) .. at)
  for _, s in ipairs({ '', ':n:' .. n, ':o:' .. o, ':o:' .. o .. ':n:' .. n }) do
    if state then
      if created then redis.call('ZADD', idx .. 'time' .. s, at, id) end
      redis.call('ZADD', idx .. 'state' .. s, score, id)
    else
      redis.call('ZREM', idx .. 'time' .. s, id)
      redis.call('ZREM', idx .. 'state' .. s, id)
    end
  end
  redis.call('INCR', idx .. 'version')
end
local function terminal(s) return s == 'completed' or s == 'failed' or s == 'cancelled' end
`;

/**
 * Creates a job's snapshot and indexes it. KEYS[1] snapshot, KEYS[2] idempotency key (KEYS[1]
 * again for none: every key of a call must be in the same Cluster slot, and '' is in another);
 * ARGV[1] retention s, ARGV[2] index prefix, ARGV[3] job id, then field/value pairs (with `state`,
 * `createdAt`, `_o` and `_n`). With an idempotency key seen in the last 24 h: returns {0, first job
 * id} and writes nothing; else {1, job id}.
 */
export const CREATE_SCRIPT = lua(`${PRELUDE}
if KEYS[2] ~= KEYS[1] then
  local first = redis.call('GET', KEYS[2])
  if first then return { 0, first } end
  redis.call('SET', KEYS[2], ARGV[3], 'EX', 86400)
end
redis.call('HSET', KEYS[1], unpack(ARGV, 4))
redis.call('EXPIRE', KEYS[1], ARGV[1])
local h = {}
for i = 4, #ARGV, 2 do h[ARGV[i]] = ARGV[i + 1] end
index(ARGV[2], ARGV[3], h._o, h._n, h.createdAt, h.state, true)
return { 1, ARGV[3] }
`);

/**
 * Applies an update atomically: refuses it (false) when the job is unknown or already terminal,
 * so no progress can follow the final state, whoever wins a race; sets `seq` + 1 and the given
 * fields (an empty value deletes the field), renews the retention, moves the job in the list
 * index when its state changed, and returns the whole hash. Reads the hash once (HGETALL) and
 * answers it with the changes applied, so an update is HGETALL, HSET, EXPIRE (and HDEL when a
 * field to delete exists), plus the index on a state change. The hash is answered as one JSON
 * object (`cjson`, every value a string), not as a flat array of field/value pairs: a worker
 * writes twice per job, and decoding some 30 bulk strings per reply was the largest part of its
 * Redis reply parsing in CPU profiles; one string and `JSON.parse` cost a fraction of that.
 * ARGV[1] retention s, ARGV[2] index prefix ('': a state change left out of the index, for a
 * worker's \`active\`, see INDEX_ACTIVE_SCRIPT), ARGV[3] 'unless-cancel-requested' (returns
 * 'cancel-requested' and changes nothing when a cancel was requested: a worker's start and its
 * cancel check in one round trip) or '', then field/value pairs.
 */
export const UPDATE_SCRIPT = lua(`${PRELUDE}
local all = redis.call('HGETALL', KEYS[1])
local h = {}
for i = 1, #all, 2 do h[all[i]] = all[i + 1] end
local state = h.state
if not state or terminal(state) then return false end
if ARGV[3] ~= '' and h.cancelRequested == '1' then return 'cancel-requested' end
h.seq = tostring((tonumber(h.seq) or 0) + 1)
local set, del = { 'seq', h.seq }, {}
for i = 4, #ARGV, 2 do
  local k, v = ARGV[i], ARGV[i + 1]
  if v ~= '' then
    set[#set + 1] = k
    set[#set + 1] = v
    h[k] = v
  elseif h[k] then
    del[#del + 1] = k
    h[k] = nil
  end
end
redis.call('HSET', KEYS[1], unpack(set))
if #del > 0 then redis.call('HDEL', KEYS[1], unpack(del)) end
redis.call('EXPIRE', KEYS[1], ARGV[1])
if h.state ~= state and ARGV[2] ~= '' then index(ARGV[2], h.jobId, h._o, h._n, h.createdAt, h.state, false) end
return cjson.encode(h)
`);

/**
 * Moves a job whose `active` was written without the index (UPDATE_SCRIPT with no index prefix,
 * see JobsWorker) into the `active` band, if it is still active; anything else was indexed by
 * the update that wrote it. Idempotent: it writes the current state, so its order against the
 * job's other writes does not matter. ARGV[1] index prefix. Returns 1 when it indexed, else 0.
 */
export const INDEX_ACTIVE_SCRIPT = lua(`${PRELUDE}
local f = redis.call('HMGET', KEYS[1], 'state', 'jobId', '_o', '_n', 'createdAt')
if f[1] ~= 'active' then return 0 end
index(ARGV[1], f[2], f[3], f[4], f[5], 'active', false)
return 1
`);

/**
 * Reopens a failed job for a retry: `queued`, seq + 1, progress 0, the end fields cleared.
 * ARGV[1] retention s, ARGV[2] index prefix, ARGV[3] now. Returns the hash, or the state found
 * (a string) when it is not failed, or false for an unknown job.
 */
export const REOPEN_SCRIPT = lua(`${PRELUDE}
local f = redis.call('HMGET', KEYS[1], 'state', 'seq', 'jobId', '_o', '_n', 'createdAt')
if not f[1] then return false end
if f[1] ~= 'failed' then return f[1] end
redis.call('HSET', KEYS[1], 'seq', (tonumber(f[2]) or 0) + 1, 'state', 'queued', 'progress', '0', 'updatedAt', ARGV[3])
redis.call('HDEL', KEYS[1], 'finishedAt', 'stage', 'result', 'error', 'cancelRequested', 'startedAt')
redis.call('EXPIRE', KEYS[1], ARGV[1])
index(ARGV[2], f[3], f[4], f[5], f[6], 'queued', false)
return redis.call('HGETALL', KEYS[1])
`);

/** Deletes a finished job's snapshot and index entries. ARGV[1] index prefix. Returns 1, the state found when not finished, or false. */
export const REMOVE_SCRIPT = lua(`${PRELUDE}
local f = redis.call('HMGET', KEYS[1], 'state', 'jobId', '_o', '_n', 'createdAt')
if not f[1] then return false end
if not terminal(f[1]) then return f[1] end
index(ARGV[1], f[2], f[3], f[4], f[5], false, false)
redis.call('DEL', KEYS[1])
return 1
`);

/**
 * A hub node starts watching a job (watch-routes.ts): ARGV[1] its route id is put last in the
 * record's `_w` (space-separated, oldest first), unless the job's watch has ended (completed,
 * cancelled). A list already holding ARGV[2] entries without this node takes no more: it gets the
 * marker `*` first (publishers then also send to the group's channel) and the answer says
 * `full` (the node joins through the channel instead). Returns { 'ok' | 'full', flat hash as
 * read }, or false for an unknown job, which is not created.
 */
export const WATCH_SCRIPT = lua(`
local all = redis.call('HGETALL', KEYS[1])
if #all == 0 then return false end
local state, w
for i = 1, #all, 2 do
  if all[i] == 'state' then state = all[i + 1] elseif all[i] == '_w' then w = all[i + 1] end
end
if state == 'completed' or state == 'cancelled' then return { 'ok', all } end
local nodes, listed = {}, false
if w then for n in string.gmatch(w, '%S+') do if n == ARGV[1] then listed = true else nodes[#nodes + 1] = n end end end
if not listed and #nodes >= tonumber(ARGV[2]) then
  if nodes[1] ~= '*' then
    table.insert(nodes, 1, '*')
    redis.call('HSET', KEYS[1], '_w', table.concat(nodes, ' '))
  end
  return { 'full', all }
end
nodes[#nodes + 1] = ARGV[1]
local joined = table.concat(nodes, ' ')
if joined ~= w then redis.call('HSET', KEYS[1], '_w', joined) end
return { 'ok', all }
`);

/** Marks a cancel request unless the job already ended; returns the state it found (or false). */
export const CANCEL_SCRIPT = lua(`
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return false end
if state ~= 'completed' and state ~= 'failed' and state ~= 'cancelled' then redis.call('HSET', KEYS[1], 'cancelRequested', '1') end
return state
`);

/**
 * One page of the list and the counts, read-only. KEYS[1] the scope's `state` set, KEYS[2] its
 * `time` set; ARGV[1] the band to page (0-5) or 'all', ARGV[2] offset, ARGV[3] how many ids.
 * Returns the six counts (bands 0-5, ZCOUNT of each band's score range), then the ids, newest
 * first: a state's page is a ZREVRANGE by rank from the first rank of its band (after the jobs of
 * the higher bands), so a page costs the same however deep its offset.
 */
export const PAGE_SCRIPT = lua(`
local function low(b) return b .. '0000000000000' end
local counts = {}
for b = 0, ${LISTED_JOB_STATES.length - 1} do counts[b + 1] = redis.call('ZCOUNT', KEYS[1], low(b), '(' .. low(b + 1)) end
local offset, n = tonumber(ARGV[2]), tonumber(ARGV[3])
local ids
if ARGV[1] == 'all' then
  ids = redis.call('ZREVRANGE', KEYS[2], offset, offset + n - 1)
else
  local b = tonumber(ARGV[1])
  local above = redis.call('ZCOUNT', KEYS[1], low(b + 1), '+inf')
  local last = math.min(offset + n, counts[b + 1]) - 1
  ids = offset <= last and redis.call('ZREVRANGE', KEYS[1], above + offset, above + last) or {}
end
for _, id in ipairs(ids) do counts[#counts + 1] = id end
return counts
`);

/** The state names in the per-state list index's set names (`<idx><state><scope>`, `all` holding every state). */
const OLD_INDEX_SETS = ['queued', 'delayed', 'active', 'completed', 'failed', 'cancelled', 'all'];

/**
 * Moves a deployment from the per-state list index of earlier 0.1.0 builds (one sorted set per
 * state per scope, score `createdAt`) to this one, a bounded step per call; call it until it
 * answers more = 0. KEYS[1] the marker hash (`<idx>upgrade`: `done` when finished, `cursor` while
 * deleting), KEYS[2] the old every-job set (`<idx>all`); ARGV[1] index prefix, ARGV[2] snapshot
 * key prefix, ARGV[3] batch size, ARGV[4] retention s, ARGV[5] now (ms), ARGV[6] a SCAN pattern
 * matching `<idx>*`.
 * 1. Nothing of the old index (no every-job set of any state): marks done. A deployment that never
 *    had it pays one call.
 * 2. While `<idx>all` has jobs: takes a batch from it, indexes each whose record exists from the
 *    record itself (its current state, both sets of its four scopes; ZADD is idempotent) and
 *    removes them from `<idx>all`. A delayed record written by the old code (TTL from the enqueue)
 *    gets the retention after its due time. Bumps the version once per batch.
 * 3. Then deletes the old index's other sets (their scopes are known only from their names): one
 *    SCAN step of `<idx>*` per call, the cursor kept in the marker; marks done when the scan ends.
 * Answers {more (0/1), jobs indexed}. Safe to run from several processes at once (each call is
 * atomic and takes up where the last one, from any process, ended).
 */
export const UPGRADE_INDEX_SCRIPT = lua(`${PRELUDE}
local idx, snap, n = ARGV[1], ARGV[2], tonumber(ARGV[3])
local m = redis.call('HMGET', KEYS[1], 'done', 'cursor')
if m[1] then return { 0, 0 } end
local OLD = { ${OLD_INDEX_SETS.map((s) => `${s} = true`).join(', ')} }
if not m[2] then
  local any = false
  for s in pairs(OLD) do
    if redis.call('EXISTS', idx .. s) == 1 then any = true end
  end
  if not any then
    redis.call('HSET', KEYS[1], 'done', ARGV[5])
    return { 0, 0 }
  end
end
local ids = redis.call('ZRANGE', KEYS[2], 0, n - 1)
if #ids > 0 then
  local indexed = 0
  for _, id in ipairs(ids) do
    local key = snap .. id
    local f = redis.call('HMGET', key, 'state', '_o', '_n', 'createdAt', 'dueAt')
    if f[1] and f[2] and f[3] and f[4] then
      local t = tonumber(f[4])
      for _, s in ipairs({ '', ':n:' .. f[3], ':o:' .. f[2], ':o:' .. f[2] .. ':n:' .. f[3] }) do
        redis.call('ZADD', idx .. 'time' .. s, t, id)
        redis.call('ZADD', idx .. 'state' .. s, (BAND[f[1]] or 9) * 1e13 + t, id)
      end
      if f[1] == 'delayed' and f[5] then
        local keep = tonumber(ARGV[4]) + math.ceil(math.max(0, tonumber(f[5]) - tonumber(ARGV[5])) / 1000)
        if redis.call('TTL', key) < keep then redis.call('EXPIRE', key, keep) end
      end
      indexed = indexed + 1
    end
  end
  redis.call('ZREM', KEYS[2], unpack(ids))
  redis.call('HSET', KEYS[1], 'cursor', m[2] or '0')
  redis.call('INCR', idx .. 'version')
  return { 1, indexed }
end
local scan = redis.call('SCAN', m[2] or '0', 'MATCH', ARGV[6], 'COUNT', n * 5)
for _, k in ipairs(scan[2]) do
  local rest = string.sub(k, #idx + 1)
  local head = string.match(rest, '^[a-z]+')
  if head and OLD[head] and (#rest == #head or string.sub(rest, #head + 1, #head + 1) == ':') then redis.call('DEL', k) end
end
if scan[1] == '0' then
  redis.call('HSET', KEYS[1], 'done', ARGV[5])
  redis.call('HDEL', KEYS[1], 'cursor')
  return { 0, 0 }
end
redis.call('HSET', KEYS[1], 'cursor', scan[1])
return { 1, 0 }
`);
