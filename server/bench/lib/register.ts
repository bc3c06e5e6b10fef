/**
 * Registers many agent ids at the gateway over UDP with digest authentication (RFC 3261 22.4,
 * MD5 with qop=auth, RFC 2617 3.2.2), all pointing at one Contact: the single SIPp UAS of the
 * benchmark. SIPp's register.xml does the same for one id per SIPp run; registering thousands of
 * ids that way would take a SIPp process each, so the bench speaks the two transactions itself.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';

export interface RegisterOptions {
  gateway: { host: string; port: number };
  /** Agent ids and their password (all the same in the bench). */
  ids: string[];
  password: string;
  /** Contact every id registers: where the SIPp agent listens. */
  contact: { host: string; port: number };
  expires: number;
  /** Registrations in flight at once. */
  window?: number;
  timeoutMs?: number;
  /** Checked between registrations: stop early (the rest count as failed) once it says false. */
  alive?: () => boolean;
}

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');

function param(header: string, name: string): string | undefined {
  const m = new RegExp(`[\\s,]${name}=(?:"([^"]*)"|([^,\\s]+))`, 'i').exec(` ${header}`);
  return m ? (m[1] ?? m[2]) : undefined;
}

function header(msg: string, name: string): string | undefined {
  const m = new RegExp(`^${name}:[ \\t]*(.*)$`, 'im').exec(msg);
  return m?.[1]?.trim();
}

/** Registers every id; resolves with how many got 200, rejects on socket errors only. */
export async function registerAgents(o: RegisterOptions): Promise<{ ok: number; failed: string[] }> {
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  const local = sock.address();
  const ruri = `sip:${o.gateway.host}:${o.gateway.port}`;
  const pending = new Map<string, { id: string; cseq: number; text: string; tries: number; done: (ok: boolean) => void }>();

  const build = (id: string, callId: string, tag: string, cseq: number, authz?: string): string =>
    [
      `REGISTER ${ruri} SIP/2.0`,
      `Via: SIP/2.0/UDP ${local.address}:${local.port};branch=z9hG4bK${randomBytes(8).toString('hex')};rport`,
      `From: <sip:${id}@${o.gateway.host}>;tag=${tag}`,
      `To: <sip:${id}@${o.gateway.host}>`,
      `Call-ID: ${callId}`,
      `CSeq: ${cseq} REGISTER`,
      `Contact: <sip:${id}@${o.contact.host}:${o.contact.port};transport=udp>`,
      ...(authz ? [`Authorization: ${authz}`] : []),
      'Max-Forwards: 70',
      `Expires: ${o.expires}`,
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');

  const send = (text: string): void => sock.send(text, o.gateway.port, o.gateway.host);

  sock.on('message', (buf) => {
    const msg = buf.toString('latin1');
    const status = Number(/^SIP\/2\.0 (\d{3})/.exec(msg)?.[1] ?? 0);
    const callId = header(msg, 'Call-ID') ?? header(msg, 'i');
    const p = callId ? pending.get(callId) : undefined;
    if (!p || status < 200) return;
    const cseq = Number(/^(\d+)/.exec(header(msg, 'CSeq') ?? '')?.[1] ?? 0);
    if (cseq !== p.cseq) return; // a late answer to an earlier try
    if (status === 200) return p.done(true);
    if (status !== 401 || p.cseq > 1) return p.done(false);
    const www = header(msg, 'WWW-Authenticate') ?? '';
    const realm = param(www, 'realm') ?? '';
    const nonce = param(www, 'nonce') ?? '';
    const opaque = param(www, 'opaque');
    const cnonce = randomBytes(8).toString('hex');
    const nc = '00000001';
    const ha1 = md5(`${p.id}:${realm}:${o.password}`);
    const ha2 = md5(`REGISTER:${ruri}`);
    const response = md5(`${ha1}:${nonce}:${nc}:${cnonce}:auth:${ha2}`);
    const authz =
      `Digest username="${p.id}", realm="${realm}", nonce="${nonce}", uri="${ruri}", response="${response}", ` +
      `algorithm=MD5, qop=auth, nc=${nc}, cnonce="${cnonce}"${opaque !== undefined ? `, opaque="${opaque}"` : ''}`;
    const tag = /;tag=([^;\s>]+)/.exec(header(msg, 'From') ?? '')?.[1] ?? 'x';
    p.cseq = 2;
    p.tries = 0;
    p.text = build(p.id, callId!, tag, 2, authz);
    send(p.text);
  });

  const one = (id: string): Promise<boolean> =>
    new Promise((resolve) => {
      const callId = `${randomBytes(10).toString('hex')}@bench`;
      const tag = randomBytes(6).toString('hex');
      const timeoutMs = o.timeoutMs ?? 8000;
      const started = Date.now();
      const entry = {
        id,
        cseq: 1,
        text: build(id, callId, tag, 1),
        tries: 0,
        done: (ok: boolean) => {
          clearInterval(retrans);
          pending.delete(callId);
          resolve(ok);
        },
      };
      // Retransmit like a UAC on UDP would (fixed 500 ms here; RFC 3261 17.1.2.2 doubles it).
      const retrans = setInterval(() => {
        if (Date.now() - started > timeoutMs) return entry.done(false);
        entry.tries++;
        send(entry.text);
      }, 500);
      pending.set(callId, entry);
      send(entry.text);
    });

  const failed: string[] = [];
  let ok = 0;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < o.ids.length) {
      const id = o.ids[next++]!;
      if (o.alive && !o.alive()) {
        failed.push(id);
        continue;
      }
      if (await one(id)) ok++;
      else failed.push(id);
    }
  };
  try {
    await Promise.all(Array.from({ length: o.window ?? 32 }, worker));
  } finally {
    sock.close();
  }
  return { ok, failed };
}
