/** The media plane's first piece: per-call RTP/RTCP relay with latching, and the port allocator. */
export { PortAllocator, PortExhaustedError } from './port-allocator.js';
export {
  createRelay, isRtp, isRtcp,
  type Relay, type RelayLeg, type RelayOptions, type RelayLogger, type LegId, type LatchMode,
  type Endpoint, type RemoteSpec, type StreamCounters, type LegStats,
} from './rtp-relay.js';
