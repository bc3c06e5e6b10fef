/**
 * Every SIP protocol timer and transport limit, in one place (design.md practice 5).
 * Values from RFC 3261 section 17 and Table 4 (A.  Table of Timer Values).
 */
export const T1 = 500; // RTT estimate (RFC 3261 17.1.1.1)
export const T2 = 4_000; // max retransmit interval for non-INVITE requests and INVITE responses
export const T4 = 5_000; // max duration a message remains in the network

export const SipTimers = {
  T1,
  T2,
  T4,
  /** INVITE request retransmit interval, UDP only (17.1.1.2): starts at T1, doubles. */
  A: T1,
  /** INVITE transaction timeout (17.1.1.2). */
  B: 64 * T1,
  /** Wait time for response retransmits in INVITE client Completed (17.1.1.2): >32 s UDP, 0 reliable. */
  D_UNRELIABLE: 32_000,
  /** Non-INVITE request retransmit interval, UDP only (17.1.2.2): starts at T1, capped at T2. */
  E: T1,
  /** Non-INVITE transaction timeout (17.1.2.2). */
  F: 64 * T1,
  /** INVITE final response retransmit interval (17.2.1): starts at T1, capped at T2. */
  G: T1,
  /** Wait time for ACK receipt (17.2.1). */
  H: 64 * T1,
  /** Wait time for ACK retransmits, UDP (17.2.1); 0 for reliable transports. */
  I_UNRELIABLE: T4,
  /** Wait time for non-INVITE request retransmits, UDP (17.2.2); 0 for reliable. */
  J_UNRELIABLE: 64 * T1,
  /** Wait time for response retransmits, UDP (17.1.2.2); 0 for reliable. */
  K_UNRELIABLE: T4,
  /** UAS 2xx retransmission until ACK: starts at T1, doubles to T2, gives up after 64*T1 (13.3.1.4). */
  UAS_2XX_GIVE_UP: 64 * T1,
  /** Send 100 Trying if the TU has not answered an INVITE within this time (17.2.1). */
  TRYING_DELAY: 200,
} as const;

export const TransportLimits = {
  /** Largest SIP message accepted on any transport (bytes). UDP datagrams are at most 65535 anyway. */
  MAX_MESSAGE_BYTES: 64 * 1024,
  /** Largest header section before the blank line (bytes); a sender that never ends it is cut off. */
  MAX_HEADER_BYTES: 16 * 1024,
  /** A TCP/WS connection with no complete message for this long is closed (ms). */
  IDLE_TIMEOUT_MS: 5 * 60_000,
  /** A partial message (TCP) that is not completed within this time closes the connection (ms). */
  PARTIAL_MESSAGE_TIMEOUT_MS: 10_000,
  /** Maximum simultaneous TCP + WS connections. */
  MAX_CONNECTIONS: 10_000,
  /** Maximum simultaneous TCP + WS connections from one source address (docs/security.md, edge limits). */
  MAX_CONNECTIONS_PER_IP: 200,
  /** Frames a second one SIP WebSocket may send; beyond it the connection is closed (docs/security.md). */
  WS_MESSAGES_PER_SECOND: 50,
} as const;

/** Registrar limits (RFC 3261 10.3). */
export const RegistrarLimits = {
  DEFAULT_EXPIRES: 3600,
  MIN_EXPIRES: 60,
  MAX_EXPIRES: 7200,
  /** Digest nonce lifetime (ms). */
  NONCE_TTL_MS: 5 * 60_000,
} as const;
