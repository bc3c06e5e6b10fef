export type { Endpoint, InboundMessage, SipFlow, SipProtocol, TransportEvents, TransportLayer } from './types.js';
export { createTransportLayer, TransportLayerImpl, type TransportLayerOptions } from './layer.js';
export type { Limits as TransportLimitValues, TransportStats } from './context.js';
export { StreamFramer, FramingError, parseContentLength, type FrameItem, type FramerLimits, type FramingErrorCode, type PushResult } from './framer.js';
export { normalizeAddress, sameEndpoint, parseUdpFlowId, udpFlowId } from './endpoint.js';
export { SIP_SUBPROTOCOL } from './ws.js';
