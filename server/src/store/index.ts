export {
  OUTCOMES,
  DTMF_TRANSPORTS,
  sessionRecordSchema,
  maskedCardSchema,
  parseRecord,
  SessionStoreError,
  type Outcome,
  type DtmfTransport,
  type MaskedCard,
  type SessionRecord,
  type SessionPatch,
  type SessionFilter,
  type SessionStore,
  type SessionStoreErrorCode,
} from './session-record.js';
export {
  EventBusClosedError,
  type BusEvent,
  type EventBus,
  type ReplayResult,
  type SubscribeOptions,
  type Subscription,
  type Unsequenced,
} from './event-bus.js';
export { MemorySessionStore, type MemorySessionStoreOptions, DEFAULT_ENDED_TTL_MS, DEFAULT_LIVE_TTL_MS, DEFAULT_MAX_SESSIONS } from './memory-session-store.js';
export { MemoryEventBus, type MemoryEventBusOptions, type HistoryCodec, DEFAULT_HISTORY_PER_SESSION } from './memory-event-bus.js';
export { createStoreBackend, type StoreBackend, type StoreBackendOptions, type RedisStatus, type SharedRedis } from './backend.js';
export { RedisLink, RedisTimeoutError, type RedisLinkOptions, type RedisState, type RedisHealth } from './redis-link.js';
export { RedisSessionStore, type RedisSessionStoreOptions } from './redis-session-store.js';
export { RedisEventBus, type RedisEventBusOptions, DEFAULT_OUTAGE_BUFFER } from './redis-event-bus.js';
export { InstanceHeartbeat, type InstanceHeartbeatOptions, type InstanceInfo } from './redis-heartbeat.js';
export { RedisKeys, DEFAULT_PREFIX } from './redis-keys.js';
export { RedisRegistrations, parseBindings, type DirectoryBinding, type RegistrationDirectory } from './redis-registrations.js';
export { RedisAgentAuth, type AgentAuthDirectory } from './redis-agent-auth.js';
export { RedisSupervisorSessions, type SupervisorSessionDirectory } from './redis-supervisor-sessions.js';
