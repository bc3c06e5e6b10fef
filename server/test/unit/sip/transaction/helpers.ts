/** Test helpers for the transaction layer: raw SIP text parsed by sip.js, a recording fake flow. */
import { Core } from 'sip.js';
import type { Clock } from '../../../../src/lib/clock.js';
import type { SipFlow, SipProtocol } from '../../../../src/sip/transport/types.js';
import type {
  IncomingRequestMessage,
  IncomingResponseMessage,
  TransactionLogger,
} from '../../../../src/sip/transaction/index.js';

const factory = new Core.LoggerFactory();
factory.builtinEnabled = false;
const parserLogger = factory.getLogger('test');

export function parse(text: string): IncomingRequestMessage | IncomingResponseMessage {
  const msg = Core.Parser.parseMessage(text, parserLogger);
  if (!msg) throw new Error(`unparsable test message:\n${text}`);
  return msg;
}

export function parseRequest(text: string): IncomingRequestMessage {
  const msg = parse(text);
  if (!(msg instanceof Core.IncomingRequestMessage)) throw new Error('not a request');
  return msg;
}

export function parseResponse(text: string): IncomingResponseMessage {
  const msg = parse(text);
  if (!(msg instanceof Core.IncomingResponseMessage)) throw new Error('not a response');
  return msg;
}

export interface ReqOpts {
  method?: string;
  branch?: string | null; // null: no branch parameter at all
  sentBy?: string;
  ruri?: string;
  callId?: string;
  cseq?: number;
  cseqMethod?: string;
  fromTag?: string;
  toTag?: string;
  via?: string; // the whole Via header value, overriding branch/sentBy
}

const CRLF = '\r\n';

export function requestText(o: ReqOpts = {}): string {
  const method = o.method ?? 'INVITE';
  const branch = o.branch === undefined ? 'z9hG4bK-inv-1' : o.branch;
  const via = o.via ?? `SIP/2.0/UDP ${o.sentBy ?? '198.51.100.7:5060'}${branch === null ? '' : `;branch=${branch}`}`;
  return [
    `${method} ${o.ruri ?? 'sip:pay@gw.example'} SIP/2.0`,
    `Via: ${via}`,
    'Max-Forwards: 70',
    `From: <sip:alice@pbx.example>;tag=${o.fromTag ?? 'from-1'}`,
    `To: <sip:pay@gw.example>${o.toTag ? `;tag=${o.toTag}` : ''}`,
    `Call-ID: ${o.callId ?? 'call-1@pbx.example'}`,
    `CSeq: ${o.cseq ?? 1} ${o.cseqMethod ?? method}`,
    'Content-Length: 0',
    '',
    '',
  ].join(CRLF);
}

export const request = (o: ReqOpts = {}): IncomingRequestMessage => parseRequest(requestText(o));

export interface ResOpts {
  branch?: string;
  method?: string;
  cseq?: number;
  toTag?: string;
}

/** A response as a peer would send it to us (our Via on top). */
export function responseText(status: number, o: ResOpts = {}): string {
  const method = o.method ?? 'INVITE';
  return [
    `SIP/2.0 ${status} Whatever`,
    `Via: SIP/2.0/UDP 203.0.113.1:5060;branch=${o.branch ?? 'z9hG4bK-out-1'}`,
    `From: <sip:gw@gw.example>;tag=gw-1`,
    `To: <sip:bob@peer.example>${status > 100 ? `;tag=${o.toTag ?? 'peer-1'}` : ''}`,
    'Call-ID: out-1@gw.example',
    `CSeq: ${o.cseq ?? 1} ${method}`,
    'Content-Length: 0',
    '',
    '',
  ].join(CRLF);
}

export const response = (status: number, o: ResOpts = {}): IncomingResponseMessage =>
  parseResponse(responseText(status, o));

/** A serialised response from the TU (what ServerTransaction.respond takes). */
export function tuResponse(status: number, toTag = 'gw-tag-1'): string {
  return [
    `SIP/2.0 ${status} Whatever`,
    'Via: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK-inv-1',
    'From: <sip:alice@pbx.example>;tag=from-1',
    `To: <sip:pay@gw.example>;tag=${toTag}`,
    'Call-ID: call-1@pbx.example',
    'CSeq: 1 INVITE',
    'Content-Length: 0',
    '',
    '',
  ].join(CRLF);
}

export interface Sent {
  at: number;
  message: string;
}

/** A SipFlow that records what is sent (with the clock's time) and can be made to fail. */
export class FakeFlow implements SipFlow {
  readonly sent: Sent[] = [];
  fail = false;
  open = true;
  readonly protocol: SipProtocol;
  readonly remote = { address: '198.51.100.7', port: 5060 };
  readonly local = { address: '203.0.113.1', port: 5060 };

  constructor(
    private readonly clock: Clock,
    readonly reliable = false,
    readonly id = reliable ? 'tcp:1' : 'udp:198.51.100.7:5060',
  ) {
    this.protocol = reliable ? 'TCP' : 'UDP';
  }

  send(message: string): boolean {
    if (this.fail || !this.open) return false;
    this.sent.push({ at: this.clock.now(), message });
    return true;
  }

  /** Times at which messages whose first line starts with `prefix` were sent. */
  times(prefix: string): number[] {
    return this.sent.filter((s) => s.message.startsWith(prefix)).map((s) => s.at);
  }
}

export interface LogEntry {
  level: 'debug' | 'warn' | 'error';
  obj: object;
  msg?: string;
}

export class RecordingLogger implements TransactionLogger {
  readonly entries: LogEntry[] = [];
  debug(obj: object, msg?: string): void {
    this.entries.push({ level: 'debug', obj, msg });
  }
  warn(obj: object, msg?: string): void {
    this.entries.push({ level: 'warn', obj, msg });
  }
  error(obj: object, msg?: string): void {
    this.entries.push({ level: 'error', obj, msg });
  }
}

/** A ClientTransactionUser that records every callback. */
export function recordingUser() {
  const calls: string[] = [];
  const responses: IncomingResponseMessage[] = [];
  return {
    calls,
    responses,
    onResponse(res: IncomingResponseMessage): void {
      calls.push(`response ${res.statusCode}`);
      responses.push(res);
    },
    onTimeout(): void {
      calls.push('timeout');
    },
    onTransportError(): void {
      calls.push('transport-error');
    },
  };
}

/** The ACK a UAC core would build for a non-2xx final (17.1.1.3), simplified. */
export function buildAck(res: IncomingResponseMessage): string {
  return `ACK sip:bob@peer.example SIP/2.0${CRLF}To: tag=${res.toTag}${CRLF}${CRLF}`;
}
