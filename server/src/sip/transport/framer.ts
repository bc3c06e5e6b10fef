/**
 * Byte-level framer for SIP over stream transports (TCP), RFC 3261 18.3.
 *
 * A stream carries messages back to back; each one is a header section ended by an empty line
 * (CRLF CRLF) followed by exactly Content-Length BYTES of body (not characters: a UTF-8 body has
 * more bytes than characters). Between messages a peer may send CRLF keep-alives (RFC 5626 3.5.1):
 * a double CRLF "ping" which we answer with a single CRLF "pong", and stray CRLFs which are skipped
 * (RFC 3261 7.5: CRLFs before a start-line are ignored).
 *
 * The framer is pure (no sockets, no timers) and never buffers more than the limits: a header
 * section longer than maxHeaderBytes, a message longer than maxMessageBytes or a Content-Length
 * that is not a number is a fatal error for the stream, since a stream cannot be resynchronised.
 */

export interface FramerLimits {
  /** Largest whole message (header section + body) in bytes. */
  maxMessageBytes: number;
  /** Largest header section (start-line, headers and the blank line) in bytes. */
  maxHeaderBytes: number;
}

export type FramingErrorCode = 'HEADER_TOO_LARGE' | 'MESSAGE_TOO_LARGE' | 'BAD_CONTENT_LENGTH';

export class FramingError extends Error {
  constructor(
    readonly code: FramingErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'FramingError';
  }
}

/** A complete message, or a CRLF CRLF keep-alive ping to be answered with CRLF. */
export type FrameItem = { kind: 'message'; data: Buffer } | { kind: 'ping' };

export interface PushResult {
  /** Everything completed by this push, in stream order (also those before an error). */
  items: FrameItem[];
  /** Set when the stream cannot be framed any further; the connection must be closed. */
  error?: FramingError;
}

const CR = 0x0d;
const LF = 0x0a;
const BLANK_LINE = Buffer.from('\r\n\r\n', 'latin1');

/** A FIFO of bytes in one growable buffer, so a message arriving a byte at a time costs O(n). */
class ByteQueue {
  private buf = Buffer.alloc(0);
  private start = 0;
  private end = 0;

  constructor(private readonly maxCapacity: number) {}

  get length(): number {
    return this.end - this.start;
  }

  append(chunk: Buffer): void {
    if (this.end + chunk.length > this.buf.length) {
      const live = this.length;
      if (live + chunk.length <= this.buf.length) {
        this.buf.copy(this.buf, 0, this.start, this.end);
      } else {
        const cap = Math.min(this.maxCapacity, Math.max(1024, this.buf.length * 2, live + chunk.length));
        const next = Buffer.allocUnsafe(Math.max(cap, live + chunk.length));
        this.buf.copy(next, 0, this.start, this.end);
        this.buf = next;
      }
      this.start = 0;
      this.end = live;
    }
    chunk.copy(this.buf, this.end);
    this.end += chunk.length;
  }

  byte(i: number): number {
    return this.buf[this.start + i]!;
  }

  /** A view of the queued bytes; valid only until the next append. */
  view(): Buffer {
    return this.buf.subarray(this.start, this.end);
  }

  consume(n: number): void {
    this.start += n;
    if (this.start >= this.end) this.start = this.end = 0;
  }

  /** Removes and returns a copy of the first n bytes. */
  take(n: number): Buffer {
    const out = Buffer.from(this.buf.subarray(this.start, this.start + n));
    this.consume(n);
    return out;
  }

  clear(): void {
    this.buf = Buffer.alloc(0);
    this.start = this.end = 0;
  }
}

/**
 * boundary: between messages, only CRLF keep-alives are expected before the next start-line;
 * header: inside a header section, looking for the blank line;
 * body: header parsed, waiting for `total` bytes in all.
 */
type Phase = 'boundary' | 'header' | 'body';

export class StreamFramer {
  private readonly maxMessage: number;
  private readonly maxHeader: number;
  private readonly q: ByteQueue;
  private phase: Phase = 'boundary';
  /** Bytes of the header section already searched for the blank line. */
  private scanned = 0;
  /** Total bytes (header section + body) of the message being read, in the Body phase. */
  private total = 0;
  private failed: FramingError | undefined;

  constructor(limits: FramerLimits) {
    this.maxMessage = limits.maxMessageBytes;
    this.maxHeader = Math.min(limits.maxHeaderBytes, limits.maxMessageBytes);
    this.q = new ByteQueue(this.maxMessage);
  }

  /** True while part of a message (not just keep-alive CRLFs) is buffered. */
  get partial(): boolean {
    return this.phase !== 'boundary';
  }

  /** Bytes currently buffered (never more than maxMessageBytes). */
  get buffered(): number {
    return this.q.length;
  }

  push(chunk: Buffer): PushResult {
    const items: FrameItem[] = [];
    if (this.failed) return { items, error: this.failed };
    let off = 0;
    while (off < chunk.length) {
      // Take in no more than fits under the message limit. After drain() the queue always holds
      // less than maxMessageBytes (see the phase invariants), so each turn makes progress.
      const n = Math.min(this.maxMessage - this.q.length, chunk.length - off);
      this.q.append(chunk.subarray(off, off + n));
      off += n;
      const error = this.drain(items);
      if (error) {
        this.failed = error;
        this.q.clear();
        return { items, error };
      }
    }
    return { items };
  }

  private drain(items: FrameItem[]): FramingError | undefined {
    for (;;) {
      switch (this.phase) {
        case 'boundary':
          if (!this.skipKeepAlives(items)) return undefined;
          this.phase = 'header';
          this.scanned = 0;
          break;
        case 'header': {
          const r = this.readHeader();
          if (r === 'wait') return undefined;
          if (r instanceof FramingError) return r;
          break;
        }
        case 'body':
          if (this.q.length < this.total) return undefined;
          items.push({ kind: 'message', data: this.q.take(this.total) });
          this.phase = 'boundary';
          break;
      }
    }
  }

  /**
   * RFC 5626 3.5.1 / 4.4.1: CRLF CRLF is a ping; RFC 3261 7.5: other CRLFs before a start-line are
   * skipped. Returns true when the queue starts with something else (a start-line), false when more
   * bytes are needed to decide (or the queue is empty).
   */
  private skipKeepAlives(items: FrameItem[]): boolean {
    const q = this.q;
    for (;;) {
      if (q.length === 0) return false;
      const b0 = q.byte(0);
      if (b0 === LF) { q.consume(1); continue; } // a bare LF: tolerate and skip
      if (b0 !== CR) return true;
      if (q.length < 2) return false;
      if (q.byte(1) !== LF) { q.consume(1); continue; }
      if (q.length < 3) return false;
      if (q.byte(2) !== CR) { q.consume(2); continue; } // a single stray CRLF
      if (q.length < 4) return false;
      if (q.byte(3) === LF) {
        q.consume(4);
        items.push({ kind: 'ping' });
      } else {
        q.consume(2);
      }
    }
  }

  private readHeader(): 'wait' | 'ok' | FramingError {
    const view = this.q.view();
    const at = view.indexOf(BLANK_LINE, Math.max(0, this.scanned - 3));
    if (at < 0) {
      this.scanned = view.length;
      if (view.length >= this.maxHeader) {
        return new FramingError('HEADER_TOO_LARGE', `header section exceeds ${this.maxHeader} bytes`);
      }
      return 'wait';
    }
    const headerLen = at + BLANK_LINE.length;
    if (headerLen > this.maxHeader) {
      return new FramingError('HEADER_TOO_LARGE', `header section of ${headerLen} bytes exceeds ${this.maxHeader}`);
    }
    const cl = parseContentLength(view.subarray(0, at));
    if (cl instanceof FramingError) return cl;
    if (headerLen + cl > this.maxMessage) {
      return new FramingError('MESSAGE_TOO_LARGE', `Content-Length ${cl} makes the message exceed ${this.maxMessage} bytes`);
    }
    this.total = headerLen + cl;
    this.phase = 'body';
    return 'ok';
  }
}

const CONTENT_LENGTH = /^(?:content-length|l)[ \t]*:(.*)$/i;

/**
 * The body length from a header section (without the blank line). RFC 3261 20.14 / 7.3.3: the
 * header is `Content-Length` or compact `l`, value 1*DIGIT. RFC 3261 18.3 makes it mandatory on
 * stream transports; an absent one is taken as 0 here and left to the message layer to answer 400.
 * Several Content-Length headers that disagree cannot be framed (RFC 4475 3.1.2.8 mcl01).
 */
export function parseContentLength(headerSection: Buffer): number | FramingError {
  // latin1 keeps every byte as one char; header names and the value are ASCII.
  const lines = headerSection.toString('latin1').replace(/\r\n[ \t]+/g, ' ').split('\r\n');
  let value: number | undefined;
  for (let i = 1; i < lines.length; i++) {
    const m = CONTENT_LENGTH.exec(lines[i]!);
    if (!m) continue;
    const text = m[1]!.trim();
    if (!/^\d+$/.test(text)) {
      return new FramingError('BAD_CONTENT_LENGTH', `non-numeric Content-Length ${JSON.stringify(text.slice(0, 32))}`);
    }
    const n = text.replace(/^0+(?=\d)/, '').length > 15 ? Number.MAX_SAFE_INTEGER : Number(text);
    if (value !== undefined && value !== n) {
      return new FramingError('BAD_CONTENT_LENGTH', 'conflicting Content-Length headers');
    }
    value = n;
  }
  return value ?? 0;
}

/** True for an empty buffer or one made only of CR and LF bytes (a keep-alive, not a message). */
export function isOnlyLineEnds(data: Buffer): boolean {
  for (const b of data) if (b !== CR && b !== LF) return false;
  return true;
}
