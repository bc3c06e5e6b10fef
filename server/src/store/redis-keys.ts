/**
 * Key layout in Redis (issue 6). Every key starts with a prefix (default `tonegate:`) so one
 * Redis can serve several deployments. No key or value holds more of a card than brand, first 6
 * and last 4: session records are validated by the strict schema before they are written, events
 * are masked by construction (capture/events.ts).
 *
 * | key | type | what | TTL |
 * | --- | --- | --- | --- |
 * | `session:{id}` | hash | one field per record key, JSON-encoded values | live 2 h, ended 24 h (refreshed on write) |
 * | `sessions` | zset | every session id, score = startedAt ms (list, newest first) | refreshed on write |
 * | `order:{orderRef}` | zset | ids by order reference | as above |
 * | `agent:{agentId}` | zset | ids by agent | as above |
 * | `instance-sessions:{instanceId}` | zset | ids by the gateway instance running them | as above |
 * | `seq:{sessionId}` | string | the session's last event seq (INCR in a Lua script) | event TTL (1 h) |
 * | `events:{sessionId}` | stream | the session's events, entry id `0-{seq}`, field `e` = event JSON, `i` = instance; `MAXLEN ~ 500` | event TTL |
 * | `events` (channel) | pub/sub | `{"i": instance, "e": event}` for live delivery to every instance | - |
 * | `instance:{id}` | string | heartbeat JSON, `PX` 15 s, refreshed every 5 s | 15 s |
 * | `instances` | set | every instance id that has sent a heartbeat | - |
 * | `nonce:{nonce}` | string | a used handoff-signature nonce (`SET NX EX`, docs/security.md) | twice the signature window |
 * | `handoff:{code}` | string | a handoff code's transaction JSON (`POST /api/handoffs`; taken once by GET+DEL in a script) | the code's TTL (5 min) |
 * | `handoffs` | zset | outstanding code keys, score = expiry ms (bounds how many are open) | the newest code's TTL |
 * | `did:{e164}` | string | a DID-pool reservation: the transaction JSON (`SET NX PX`; taken once) | the reservation's TTL (5 min) |
 * | `reg:{aor}` | string | an agent's bindings JSON (contact, Path, gateway, expiry; store/redis-registrations.ts) | the latest binding's expiry |
 * | `regs` | zset | registered agents, score = their latest binding's expiry ms | - |
 * | `agent-token:{sha256}` | string | an agent bearer token's agent id and expiry, by the token's SHA-256 (store/redis-agent-auth.ts) | the token's remaining life |
 * | `signin:{user}` | hash | sign-in lockout counters, one field per source address (security/lockout.ts) | the lock time (30 min) after the last write |
 *
 * Index zsets may name sessions whose hash has expired; readers re-check the record and remove
 * such members. All keys a script touches are passed in KEYS (no Redis Cluster hash tags yet:
 * one Redis, or a primary with replicas, is what this supports).
 */
export const DEFAULT_PREFIX = 'tonegate:';

export class RedisKeys {
  constructor(readonly prefix: string = DEFAULT_PREFIX) {}
  session = (id: string): string => `${this.prefix}session:${id}`;
  readonly sessions = (): string => `${this.prefix}sessions`;
  order = (orderRef: string): string => `${this.prefix}order:${orderRef}`;
  agent = (agentId: string): string => `${this.prefix}agent:${agentId}`;
  instanceSessions = (instanceId: string): string => `${this.prefix}instance-sessions:${instanceId}`;
  seq = (sessionId: string): string => `${this.prefix}seq:${sessionId}`;
  events = (sessionId: string): string => `${this.prefix}events:${sessionId}`;
  readonly channel = (): string => `${this.prefix}events`;
  instance = (id: string): string => `${this.prefix}instance:${id}`;
  readonly instances = (): string => `${this.prefix}instances`;
  nonce = (nonce: string): string => `${this.prefix}nonce:${nonce}`;
  handoff = (code: string): string => `${this.prefix}handoff:${code}`;
  readonly handoffs = (): string => `${this.prefix}handoffs`;
  did = (e164: string): string => `${this.prefix}did:${e164}`;
  registration = (aor: string): string => `${this.prefix}reg:${aor}`;
  readonly registrations = (): string => `${this.prefix}regs`;
  agentToken = (sha256: string): string => `${this.prefix}agent-token:${sha256}`;
  signIn = (user: string): string => `${this.prefix}signin:${user}`;
  supervisorSession = (sha256: string): string => `${this.prefix}supervisor-session:${sha256}`;
}

/**
 * Writes a whole session record. KEYS: hash, then the index zsets. ARGV: nx (`1`: refuse when the
 * hash exists), record TTL ms, index TTL ms, score, id, then field/value pairs. Returns 0 when
 * refused (exists), else 1. The hash is replaced, not merged: a rewrite after an outage in which
 * Redis lost its data restores the record whole.
 */
export const PUT_SESSION = `
if ARGV[1] == '1' and redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(ARGV, 6))
redis.call('PEXPIRE', KEYS[1], ARGV[2])
for i = 2, #KEYS do
  redis.call('ZADD', KEYS[i], ARGV[4], ARGV[5])
  if redis.call('PTTL', KEYS[i]) < tonumber(ARGV[3]) then redis.call('PEXPIRE', KEYS[i], ARGV[3]) end
end
return 1
`;

/**
 * Publishes one event: the seq is assigned here, atomically with the append and the PUBLISH, so two
 * publishers can never get the same number. KEYS: seq, stream. ARGV: hint (the publisher's last
 * known seq: after Redis lost its data the count goes on from there instead of restarting at 1),
 * event JSON without `seq` (an object, starting with `{`), trim operator (`~` or `=`), MAXLEN,
 * TTL ms, channel, instance id.
 * Returns the seq.
 */
export const PUBLISH_EVENT = `
local hint = tonumber(ARGV[1])
local seq = redis.call('INCR', KEYS[1])
if seq <= hint then seq = hint + 1; redis.call('SET', KEYS[1], seq) end
local body = '{"seq":' .. seq .. ',' .. string.sub(ARGV[2], 2)
redis.call('XADD', KEYS[2], 'MAXLEN', ARGV[3], ARGV[4], '0-' .. seq, 'e', body, 'i', ARGV[7])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('PEXPIRE', KEYS[2], ARGV[5])
redis.call('PUBLISH', ARGV[6], '{"i":"' .. ARGV[7] .. '","e":' .. body .. '}')
return seq
`;

/**
 * Writes an event that already has its seq (buffered during an outage). Idempotent: an entry whose
 * id is not above the stream's last is already there (an earlier try that timed out but landed)
 * and is skipped, not published twice. KEYS: seq, stream. ARGV: seq, event JSON, trim operator, MAXLEN,
 * TTL ms, channel, instance id. Returns 1 when written, 0 when skipped.
 */
export const PUT_EVENT = `
local seq = tonumber(ARGV[1])
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
if seq > cur then redis.call('SET', KEYS[1], seq) end
local ok = redis.pcall('XADD', KEYS[2], 'MAXLEN', ARGV[3], ARGV[4], '0-' .. seq, 'e', ARGV[2], 'i', ARGV[7])
if type(ok) == 'table' and ok.err then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('PEXPIRE', KEYS[2], ARGV[5])
redis.call('PUBLISH', ARGV[6], '{"i":"' .. ARGV[7] .. '","e":' .. ARGV[2] .. '}')
return 1
`;
