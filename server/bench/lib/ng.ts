/**
 * rtpengine's "ng" control protocol, as much as the benchmarks need.
 *
 * Wire format (rtpengine docs, "ng Control Protocol"): one UDP datagram per message,
 * `<cookie> <bencoded dictionary>`, the reply carrying the same cookie. A request dictionary has a
 * `command` (`ping`, `offer`, `answer`, `delete`, `query`, `statistics`, ...); a reply has a
 * `result` (`pong`, `ok`, or `error` with an `error-reason`; `ok` may carry a `warning`).
 * rtpengine remembers replies by cookie for a while, so a retransmitted request (same cookie) gets
 * the same reply instead of being run twice: the client retries with the same cookie.
 *
 * Bencode (BitTorrent BEP 3): integers `i<n>e`, byte strings `<len>:<bytes>`, lists `l...e`,
 * dictionaries `d...e` with byte-string keys in sorted order. Byte strings decode to JS strings
 * (UTF-8); everything rtpengine sends back (SDP, tags, addresses) is text.
 */
import { createSocket, type Socket } from 'node:dgram';
import { randomBytes } from 'node:crypto';

export type BValue = string | number | Buffer | BValue[] | BDict;
export interface BDict {
  [key: string]: BValue;
}

export class BencodeError extends Error {
  override name = 'BencodeError';
}

/** Bencodes a value. Numbers must be integers; `undefined` dictionary values are left out. */
export function bencode(value: BValue): Buffer {
  const parts: Buffer[] = [];
  encodeInto(value, parts);
  return Buffer.concat(parts);
}

function encodeInto(v: BValue, out: Buffer[]): void {
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new BencodeError(`bencode: ${v} is not a safe integer`);
    out.push(Buffer.from(`i${v}e`));
  } else if (typeof v === 'string') {
    const b = Buffer.from(v, 'utf8');
    out.push(Buffer.from(`${b.length}:`), b);
  } else if (Buffer.isBuffer(v)) {
    out.push(Buffer.from(`${v.length}:`), v);
  } else if (Array.isArray(v)) {
    out.push(Buffer.from('l'));
    for (const x of v) encodeInto(x, out);
    out.push(Buffer.from('e'));
  } else if (typeof v === 'object' && v !== null) {
    out.push(Buffer.from('d'));
    // BEP 3: keys sorted as raw byte strings.
    const keys = Object.keys(v).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    for (const k of keys) {
      const x = v[k];
      if (x === undefined) continue;
      encodeInto(k, out);
      encodeInto(x, out);
    }
    out.push(Buffer.from('e'));
  } else {
    throw new BencodeError(`bencode: cannot encode ${typeof v}`);
  }
}

/** Decodes one bencoded value that must span all of `buf`. Throws BencodeError on bad input. */
export function bdecode(buf: Buffer): BValue {
  const [v, end] = decodeAt(buf, 0, 0);
  if (end !== buf.length) throw new BencodeError(`bdecode: ${buf.length - end} trailing bytes at offset ${end}`);
  return v;
}

const MAX_DEPTH = 64;

function decodeAt(buf: Buffer, i: number, depth: number): [BValue, number] {
  if (depth > MAX_DEPTH) throw new BencodeError('bdecode: nested too deep');
  if (i >= buf.length) throw new BencodeError(`bdecode: unexpected end at offset ${i}`);
  const c = buf[i]!;
  if (c === 0x69 /* i */) {
    const end = buf.indexOf(0x65 /* e */, i + 1);
    if (end < 0) throw new BencodeError(`bdecode: unterminated integer at offset ${i}`);
    const s = buf.toString('latin1', i + 1, end);
    if (!/^(0|-?[1-9][0-9]*)$/.test(s)) throw new BencodeError(`bdecode: bad integer "${s}" at offset ${i}`);
    const n = Number(s);
    if (!Number.isSafeInteger(n)) throw new BencodeError(`bdecode: integer ${s} too large at offset ${i}`);
    return [n, end + 1];
  }
  if (c >= 0x30 && c <= 0x39) {
    const colon = buf.indexOf(0x3a /* : */, i);
    if (colon < 0) throw new BencodeError(`bdecode: string length without ':' at offset ${i}`);
    const s = buf.toString('latin1', i, colon);
    if (!/^(0|[1-9][0-9]*)$/.test(s)) throw new BencodeError(`bdecode: bad string length "${s}" at offset ${i}`);
    const len = Number(s);
    const start = colon + 1;
    if (start + len > buf.length) throw new BencodeError(`bdecode: string of ${len} bytes at offset ${i} runs past the end`);
    return [buf.toString('utf8', start, start + len), start + len];
  }
  if (c === 0x6c /* l */) {
    const list: BValue[] = [];
    let j = i + 1;
    while (true) {
      if (j >= buf.length) throw new BencodeError(`bdecode: unterminated list at offset ${i}`);
      if (buf[j] === 0x65) return [list, j + 1];
      const [v, next] = decodeAt(buf, j, depth + 1);
      list.push(v);
      j = next;
    }
  }
  if (c === 0x64 /* d */) {
    // A null-prototype object: keys such as "__proto__" from the wire stay plain data.
    const dict = Object.create(null) as BDict;
    let j = i + 1;
    while (true) {
      if (j >= buf.length) throw new BencodeError(`bdecode: unterminated dictionary at offset ${i}`);
      if (buf[j] === 0x65) return [dict, j + 1];
      const [k, afterKey] = decodeAt(buf, j, depth + 1);
      if (typeof k !== 'string') throw new BencodeError(`bdecode: dictionary key at offset ${j} is not a string`);
      const [v, next] = decodeAt(buf, afterKey, depth + 1);
      dict[k] = v;
      j = next;
    }
  }
  throw new BencodeError(`bdecode: unexpected byte 0x${c.toString(16)} at offset ${i}`);
}

/** Splits an ng datagram into cookie and dictionary. */
export function parseNgMessage(msg: Buffer): { cookie: string; dict: BDict } {
  const sp = msg.indexOf(0x20);
  if (sp <= 0) throw new BencodeError('ng: message has no "<cookie> " prefix');
  const v = bdecode(msg.subarray(sp + 1));
  if (typeof v !== 'object' || v === null || Array.isArray(v) || Buffer.isBuffer(v)) {
    throw new BencodeError('ng: message body is not a dictionary');
  }
  return { cookie: msg.toString('latin1', 0, sp), dict: v };
}

export function formatNgMessage(cookie: string, dict: BDict): Buffer {
  return Buffer.concat([Buffer.from(`${cookie} `, 'latin1'), bencode(dict)]);
}

/** rtpengine answered `result: error`. */
export class NgError extends Error {
  override name = 'NgError';
  constructor(
    readonly command: string,
    readonly reason: string,
    readonly reply: BDict,
  ) {
    super(`rtpengine ${command}: error: ${reason}`);
  }
}

/** No reply within the timeout (after all retries). */
export class NgTimeoutError extends Error {
  override name = 'NgTimeoutError';
}

export interface NgClientOptions {
  host: string;
  port: number;
  /** Per-attempt wait before the request is sent again (same cookie). */
  timeoutMs?: number;
  /** Sends in all (first + retransmissions). */
  attempts?: number;
}

interface Pending {
  command: string;
  resolve: (d: BDict) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

/** An ng client over UDP; one socket, requests matched to replies by cookie. */
export class NgClient {
  private readonly sock: Socket;
  private readonly pending = new Map<string, Pending>();
  private readonly prefix = randomBytes(4).toString('hex');
  private seq = 0;
  private closed = false;

  private constructor(
    sock: Socket,
    readonly host: string,
    readonly port: number,
    private readonly timeoutMs: number,
    private readonly attempts: number,
  ) {
    this.sock = sock;
    sock.on('message', (msg) => this.onMessage(msg));
  }

  static async connect(opts: NgClientOptions): Promise<NgClient> {
    const sock = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(0, '127.0.0.1', () => {
        sock.off('error', reject);
        resolve();
      });
    });
    // statistics/query replies can be large; offers in bulk arrive in bursts.
    sock.setRecvBufferSize(4 * 1024 * 1024);
    sock.on('error', () => {
      /* ICMP port unreachable and the like: the request times out with a clear message */
    });
    return new NgClient(sock, opts.host, opts.port, opts.timeoutMs ?? 2000, opts.attempts ?? 3);
  }

  private onMessage(msg: Buffer): void {
    let parsed: { cookie: string; dict: BDict };
    try {
      parsed = parseNgMessage(msg);
    } catch {
      return; // not ng: ignore
    }
    const p = this.pending.get(parsed.cookie);
    if (!p) return; // late duplicate
    this.pending.delete(parsed.cookie);
    clearTimeout(p.timer);
    const d = parsed.dict;
    if (d.result === 'error') {
      const reason = typeof d['error-reason'] === 'string' ? d['error-reason'] : '(no error-reason)';
      p.reject(new NgError(p.command, reason, d));
    } else p.resolve(d);
  }

  /** Sends one command; resolves with the reply dictionary, rejects with NgError or NgTimeoutError. */
  request(command: string, args: BDict = {}): Promise<BDict> {
    if (this.closed) return Promise.reject(new Error(`ng client closed (command ${command})`));
    const cookie = `${this.prefix}_${++this.seq}`;
    const msg = formatNgMessage(cookie, { ...args, command });
    return new Promise<BDict>((resolve, reject) => {
      let sent = 0;
      const send = (): void => {
        sent++;
        this.sock.send(msg, this.port, this.host);
        const timer = setTimeout(() => {
          if (sent < this.attempts) return send();
          this.pending.delete(cookie);
          reject(new NgTimeoutError(`rtpengine ${command}: no reply from ${this.host}:${this.port} in ${this.attempts} x ${this.timeoutMs} ms`));
        }, this.timeoutMs);
        const p = this.pending.get(cookie);
        if (p) p.timer = timer;
        else this.pending.set(cookie, { command, resolve, reject, timer });
      };
      send();
    });
  }

  async ping(): Promise<void> {
    const r = await this.request('ping');
    if (r.result !== 'pong') throw new Error(`rtpengine ping: expected result "pong", got ${JSON.stringify(r.result)}`);
  }

  offer(args: BDict): Promise<BDict> {
    return this.request('offer', args);
  }

  answer(args: BDict): Promise<BDict> {
    return this.request('answer', args);
  }

  delete(args: BDict): Promise<BDict> {
    return this.request('delete', args);
  }

  query(args: BDict): Promise<BDict> {
    return this.request('query', args);
  }

  statistics(): Promise<BDict> {
    return this.request('statistics');
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const [, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new Error(`ng client closed before rtpengine answered ${p.command}`));
    }
    this.pending.clear();
    this.sock.close();
  }
}

/** Reads `obj.a.b.c` from a decoded reply, or undefined when any step is missing. */
export function dig(obj: BValue | undefined, ...path: string[]): BValue | undefined {
  let cur: BValue | undefined = obj;
  for (const k of path) {
    if (cur === undefined || typeof cur !== 'object' || Array.isArray(cur) || Buffer.isBuffer(cur)) return undefined;
    cur = cur[k];
  }
  return cur;
}
