/**
 * The top Via: reading it, stamping `received`/`rport` on the way in (RFC 3261 18.2.1, RFC 3581 4)
 * and choosing where a response goes (RFC 3261 18.2.2, RFC 3581 4, RFC 7118 5).
 */
import { isIP } from 'node:net';
import type { Core } from 'sip.js';
import { TransportLimits } from '../constants.js';
import type { Endpoint, SipFlow } from '../transport/types.js';
import { readRaw, splitTopLevel, TOKEN } from './raw.js';
import { grammarOk } from './sipjs.js';

export interface ViaInfo {
  /** `SIP/2.0` as sent (RFC 3261 20.42 sent-protocol without the transport). */
  version: string;
  transport: string;
  /** sent-by host as written; IPv6 references keep their brackets. */
  host: string;
  port: number | undefined;
  branch: string | undefined;
  received: string | undefined;
  /** RFC 3581: a number once filled in, `true` when the client sent a bare `;rport`. */
  rport: number | true | undefined;
  maddr: string | undefined;
  /** RFC 5923 4: the sender offers this connection for requests to its sent-by. */
  alias: boolean;
}

const SWS = '[ \\t]*';
const HOST = '(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9\\-.]+)';
// gen-value = token / host / quoted-string; `received` may hold a bare IPv6 address (RFC 3261 25.1).
const VALUE = `(?:${TOKEN}|[0-9A-Fa-f:.]+|\\[[0-9A-Fa-f:.]+\\]|"(?:[^"\\\\]|\\\\.)*")`;
const PARAM = `${TOKEN}(?:${SWS}=${SWS}${VALUE})?`;
// via-parm = sent-protocol LWS sent-by *( SEMI via-params )  (RFC 3261 20.42, 25.1), unfolded.
const VIA_RE = new RegExp(
  `^(SIP${SWS}/${SWS}${TOKEN}${SWS}/${SWS}(${TOKEN}))[ \\t]+${HOST}(?:${SWS}:${SWS}([0-9]{1,5}))?` +
    `((?:${SWS};${SWS}${PARAM})*)${SWS}$`,
  'i',
);
const PARAM_G = new RegExp(`;${SWS}(${TOKEN})(?:${SWS}=${SWS}(${VALUE}))?(?=${SWS}(?:;|$))`, 'g');

interface ViaParts {
  protocol: string;
  transport: string;
  host: string;
  port: string | undefined;
  params: { name: string; value: string | undefined }[];
}

function splitVia(viaParm: string): ViaParts | undefined {
  const m = VIA_RE.exec(viaParm.replace(/\r\n[ \t]+/g, ' ').trim());
  if (!m) return undefined;
  const params = [...(m[5] ?? '').matchAll(PARAM_G)].map((p) => ({ name: p[1] ?? '', value: p[2] }));
  return { protocol: (m[1] ?? '').replace(/[ \t]/g, ''), transport: m[2] ?? '', host: m[3] ?? '', port: m[4], params };
}

/**
 * Reads one via-parm (one comma-separated Via value). Undefined when it is not well-formed, by our
 * pattern and (unless `grammar` is false because sip.js already accepted it) sip.js's grammar.
 */
export function parseVia(viaParm: string, grammar = true): ViaInfo | undefined {
  const p = splitVia(viaParm);
  if (!p || (grammar && !grammarOk(viaParm, 'Via'))) return undefined;
  const param = (n: string): { name: string; value: string | undefined } | undefined =>
    p.params.find((x) => x.name.toLowerCase() === n);
  const rport = param('rport');
  return {
    version: p.protocol.slice(0, p.protocol.lastIndexOf('/')),
    transport: p.transport.toUpperCase(),
    host: p.host,
    port: p.port === undefined ? undefined : portNumber(p.port),
    branch: param('branch')?.value,
    received: param('received')?.value,
    rport: rport === undefined ? undefined : rport.value === undefined ? true : portNumber(rport.value),
    maddr: param('maddr')?.value,
    alias: param('alias') !== undefined,
  };
}

function portNumber(v: string): number | undefined {
  return /^[0-9]{1,5}$/.test(v) && Number(v) <= 65535 ? Number(v) : undefined;
}

/** The top Via value of a parsed message: the first value of the first Via header field. */
export function topVia(msg: Core.IncomingRequestMessage | Core.IncomingResponseMessage): ViaInfo | undefined {
  const first = msg.getHeaders('via')[0];
  if (first === undefined) return undefined;
  return parseVia(splitTopLevel(first)[0] ?? '');
}

/** An IP literal in canonical form (no brackets, IPv4-mapped IPv6 as IPv4), or undefined for a name. */
function canonicalIp(address: string): string | undefined {
  const bare = address.replace(/^\[(.*)\]$/, '$1');
  const mapped = /^::ffff:([0-9.]+)$/i.exec(bare);
  if (mapped?.[1] !== undefined && isIP(mapped[1]) === 4) return mapped[1];
  const kind = isIP(bare);
  if (kind === 4) return bare;
  if (kind === 6) return new URL(`http://[${bare}]/`).hostname.slice(1, -1);
  return undefined;
}

/**
 * Stamps the packet source into the top Via of a request, in the raw bytes, before parsing, so the
 * stored request and every response built from it carry it (RFC 3261 8.2.6.2 copies Via):
 *  - `received=<source address>` when the sent-by host is a name or an address other than the
 *    source (RFC 3261 18.2.1), and always when the client asked for rport (RFC 3581 4);
 *  - `rport=<source port>` when the top Via has `rport` (RFC 3581 4).
 * The top Via is the first value of the first Via field (`Via:` or `v:`), which may hold several
 * comma-separated values. Responses, and requests whose top Via is not a well-formed via-parm, are
 * returned unchanged (parsing will reject or drop them). Never throws.
 */
export function addReceived(data: Buffer, remote: Endpoint): Buffer {
  const raw = readRaw(data, 'latin1');
  if (!raw || raw.start.kind !== 'request' || raw.text.length > TransportLimits.MAX_HEADER_BYTES) return data;
  const via = raw.headers.find((h) => h.name === 'via');
  if (!via) return data;
  // The first via-parm in the raw value: up to the first comma outside quotes (folding included).
  const rawValue = raw.text.slice(via.valueStart, via.end);
  const firstParm = splitTopLevel(rawValue)[0] ?? '';
  const lead = firstParm.length - firstParm.trimStart().length;
  const trimmed = firstParm.trim();
  const parts = splitVia(trimmed);
  const source = canonicalIp(remote.address);
  if (!parts || source === undefined) return data;
  const hasRport = parts.params.some((p) => p.name.toLowerCase() === 'rport');
  // A `received` the client wrote itself is overwritten even when sent-by is the source: left in,
  // it would send our responses to whatever address it names (18.2.2), a reflection vector.
  const hasReceived = parts.params.some((p) => p.name.toLowerCase() === 'received');
  const sentBy = canonicalIp(parts.host);
  const needReceived = hasRport || hasReceived || sentBy === undefined || sentBy !== source;
  if (!needReceived) return data;
  const params = parts.params.filter((p) => !/^(received|rport)$/i.test(p.name));
  params.push({ name: 'received', value: source });
  if (hasRport) params.push({ name: 'rport', value: String(remote.port) });
  const rebuilt =
    `${parts.protocol} ${parts.host}${parts.port === undefined ? '' : `:${parts.port}`}` +
    params.map((p) => `;${p.name}${p.value === undefined ? '' : `=${p.value}`}`).join('');
  const startByte = raw.skip + via.valueStart + lead;
  const endByte = startByte + trimmed.length;
  return Buffer.concat([data.subarray(0, startByte), Buffer.from(rebuilt, 'latin1'), data.subarray(endByte)]);
}

/**
 * Where a response goes (RFC 3261 18.2.2, RFC 3581 4). The flow is the one the request came on;
 * reliability is taken from it rather than from the Via transport token, which a peer can get wrong.
 *  - reliable (TCP, WS): the same connection. If it has closed, TCP may open a new one to `received`
 *    (or the sent-by host) and the sent-by port (default 5060); a browser (WS) cannot be dialled
 *    (RFC 7118 5), so there is no fallback.
 *  - unreliable (UDP): `received` + `rport` (RFC 3581 4), else `received` + sent-by port, else the
 *    sent-by host and port (`resolve` tells the caller a name needs RFC 3263 5 resolution). A bare
 *    `rport` that was never filled in means the source port: the flow's remote endpoint.
 * `maddr` is ignored: multicast responses are not supported, and answering the packet source is what
 * every unicast UA expects.
 */
export type ResponseDestination =
  | { kind: 'flow'; flowId: string; fallback: Endpoint | undefined }
  | { kind: 'address'; address: string; port: number; resolve: boolean };

const DEFAULT_PORT = 5060;

export function responseDestination(
  via: ViaInfo,
  flow: Pick<SipFlow, 'id' | 'protocol' | 'reliable' | 'remote'>,
): ResponseDestination {
  const host = via.host.replace(/^\[(.*)\]$/, '$1');
  if (flow.reliable) {
    // RFC 3261 18.2.2 / 26.2: the TLS default port is 5061.
    const fallback = flow.protocol === 'WS' ? undefined : { address: via.received ?? host, port: via.port ?? (flow.protocol === 'TLS' ? 5061 : DEFAULT_PORT) };
    return { kind: 'flow', flowId: flow.id, fallback };
  }
  if (via.rport === true) {
    return { kind: 'address', address: via.received ?? flow.remote.address, port: flow.remote.port, resolve: false };
  }
  const port = via.rport ?? via.port ?? DEFAULT_PORT;
  if (via.received !== undefined) return { kind: 'address', address: via.received, port, resolve: false };
  return { kind: 'address', address: host, port, resolve: isIP(host) === 0 };
}
