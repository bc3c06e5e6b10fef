/**
 * A customer for the capture benchmark: one UDP SIP socket and one RTP socket on 127.0.0.1. It
 * calls `sip:pay@gateway` with the transaction in X-Pay-* headers (PCMU + telephone-event), streams
 * 20 ms packets of µ-law silence, and keys digits as RFC 4733 events (RFC 4733 2.5: a start packet
 * with the M bit, updates every 20 ms, three end packets), noting when each key's first packet left.
 * It answers the gateway's BYE. Just enough SIP for this one job (RFC 3261 8.1, 13, 15).
 *
 * Also (bench:faults, bench:load): keys as in-band tones in the µ-law stream or as SIP INFO
 * (application/dtmf-relay); sends its RTP through a relay (a {@link RtpRelay} such as the loss
 * proxy); and keeps receive statistics of the gateway's stream ({@link PayCustomer.rxStats}).
 */
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { encodeUlaw } from '../../src/media/g711/index.js';
import { channel, dtmfSignal } from '../../devtools/dsp/generator.js';
import { sleep } from '../../devtools/procs.js';
import { RxCounter, type RxStats } from './rx-counter.js';

const ULAW_SILENCE = 0xff;
const EVENT_CODE: Record<string, number> = { '*': 10, '#': 11 };

export interface KeyTiming {
  key: string;
  /** performance.timeOrigin + performance.now() when the start packet left (epoch ms, sub-ms). */
  firstAt: number;
  /** When the first end packet left. */
  endAt: number;
}

const nowMs = (): number => performance.timeOrigin + performance.now();
const token = (n: number): string => randomBytes(n).toString('hex');

/** Something between the customer and the gateway's RTP address (bench/lib/loss-proxy.ts). */
export interface RtpRelay {
  /** Where the customer sends its RTP (and where the gateway's RTP comes from). */
  readonly address: { address: string; port: number };
  /** Told the gateway's RTP address once the SDP answer names it. */
  setTarget(t: { address: string; port: number }): void;
}

export interface PayCustomerOptions {
  /** Send RTP through this relay instead of straight to the gateway. */
  rtpVia?: RtpRelay;
  /** Offer telephone-event/8000 (default true); false for a phone that only keys in-band tones. */
  telephoneEvent?: boolean;
}

export class PayCustomer {
  readonly callId = `${token(8)}@bench`;
  private readonly tag = token(4);
  private toTag = '';
  private remoteTarget: string | undefined;
  private routeSet: string[] = [];
  private remoteRtp: { address: string; port: number } | undefined;
  private seq = Math.floor(Math.random() * 30000);
  private ts = Math.floor(Math.random() * 1e9);
  private readonly ssrc = randomBytes(4).readUInt32BE(0);
  private audio: NodeJS.Timeout | undefined;
  /** True while a key is being sent: the silence stream pauses (one sender per SSRC). */
  private keying = false;
  private finalStatus: ((status: number) => void) | undefined;
  readonly byeReceived: Promise<void>;
  private onBye!: () => void;
  readonly keys: KeyTiming[] = [];
  private readonly rx = new RxCounter();
  /** Next CSeq in the dialog after the INVITE (RFC 3261 12.2.1.1). */
  private cseq = 2;
  private readonly pendingNonInvite = new Map<number, (status: number) => void>();

  private constructor(
    private readonly sip: Socket,
    private readonly rtp: Socket,
    private readonly gateway: { host: string; port: number },
    private readonly opts: PayCustomerOptions = {},
  ) {
    this.byeReceived = new Promise((r) => (this.onBye = r));
    sip.on('message', (m) => this.onSip(m.toString()));
    // The prompts are not listened to, only counted (RFC 3550 receive statistics).
    rtp.on('message', (m) => this.rx.onPacket(m, performance.now()));
  }

  static async open(gateway: { host: string; port: number }, opts?: PayCustomerOptions): Promise<PayCustomer> {
    const bind = (s: Socket): Promise<void> => new Promise((r) => s.bind(0, '127.0.0.1', () => r()));
    const sip = createSocket('udp4');
    const rtp = createSocket('udp4');
    await Promise.all([bind(sip), bind(rtp)]);
    return new PayCustomer(sip, rtp, gateway, opts);
  }

  /** Receive statistics of the gateway's RTP stream so far. */
  rxStats(): RxStats {
    return this.rx.stats();
  }

  private get local(): string {
    return `127.0.0.1:${this.sip.address().port}`;
  }

  private onSip(text: string): void {
    const start = text.slice(0, text.indexOf('\r\n'));
    const status = /^SIP\/2\.0 (\d{3})/.exec(start);
    if (status) {
      const code = Number(status[1]);
      if (code >= 200 && / INVITE\r\n/.test(/\r\nCSeq:[^\r]*\r\n/i.exec(text)?.[0] ?? '')) {
        this.toTag = /\r\nTo:[^\r]*;tag=([^;\r]+)/i.exec(text)?.[1] ?? '';
        // RFC 3261 12.1.2: remote target from Contact, route set from Record-Route reversed.
        this.remoteTarget = /\r\nContact:\s*<([^>]+)>/i.exec(text)?.[1];
        this.routeSet = [...text.matchAll(/\r\nRecord-Route:\s*([^\r]+)/gi)].flatMap((m) => m[1]!.split(/,\s*(?=<)/)).reverse();
        const c = /\r\nc=IN IP4 (\S+)/.exec(text)?.[1];
        const m = /\r\nm=audio (\d+)/.exec(text)?.[1];
        if (c && m) {
          this.remoteRtp = { address: c, port: Number(m) };
          const via = this.opts.rtpVia;
          if (via) {
            via.setTarget(this.remoteRtp);
            this.remoteRtp = via.address;
          }
        }
        this.finalStatus?.(code);
      } else if (code >= 200) {
        const n = Number(/\r\nCSeq:\s*(\d+)/i.exec(text)?.[1]);
        this.pendingNonInvite.get(n)?.(code);
      }
      return;
    }
    if (start.startsWith('BYE ')) {
      this.sip.send(this.response(text, 200, 'OK'), this.gateway.port, this.gateway.host);
      this.stopAudio();
      this.onBye();
    } else if (!start.startsWith('ACK ')) {
      this.sip.send(this.response(text, start.startsWith('OPTIONS ') ? 200 : 405, 'OK'), this.gateway.port, this.gateway.host);
    }
  }

  private response(req: string, status: number, reason: string): string {
    const keep = req.split('\r\n').filter((l) => /^(Via|From|To|Call-ID|CSeq):/i.test(l));
    return [`SIP/2.0 ${status} ${reason}`, ...keep, 'Content-Length: 0', '', ''].join('\r\n');
  }

  /** INVITE + ACK; resolves with the final status (200 when the payment call is up). */
  async call(headers: Record<string, string>, user = 'pay'): Promise<number> {
    const te = this.opts.telephoneEvent ?? true;
    const sdp = [
      'v=0', `o=bench 1 1 IN IP4 127.0.0.1`, 's=-', 'c=IN IP4 127.0.0.1', 't=0 0',
      `m=audio ${this.rtp.address().port} RTP/AVP 0${te ? ' 101' : ''}`, 'a=rtpmap:0 PCMU/8000', ...(te ? ['a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-15'] : []), 'a=ptime:20', '',
    ].join('\r\n');
    const gw = `${this.gateway.host}:${this.gateway.port}`;
    const invite = [
      `INVITE sip:${user}@${gw} SIP/2.0`,
      `Via: SIP/2.0/UDP ${this.local};branch=z9hG4bK-${token(6)};rport`,
      `From: <sip:customer@127.0.0.1>;tag=${this.tag}`,
      `To: <sip:${user}@${gw}>`,
      `Call-ID: ${this.callId}`,
      'CSeq: 1 INVITE',
      `Contact: <sip:customer@${this.local}>`,
      'Max-Forwards: 70',
      ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
      'Content-Type: application/sdp',
      `Content-Length: ${Buffer.byteLength(sdp)}`,
      '',
      sdp,
    ].join('\r\n');
    const final = new Promise<number>((r) => (this.finalStatus = r));
    let tries = 0;
    const resend = setInterval(() => {
      if (++tries <= 6) this.sip.send(invite, this.gateway.port, this.gateway.host);
    }, 500);
    this.sip.send(invite, this.gateway.port, this.gateway.host);
    const status = await Promise.race([final, new Promise<number>((r) => setTimeout(() => r(408), 10_000))]);
    clearInterval(resend);
    if (status >= 200 && status < 300) {
      const ack = [
        `ACK ${this.remoteTarget ?? `sip:${user}@${gw}`} SIP/2.0`,
        ...this.routeSet.map((r) => `Route: ${r}`),
        `Via: SIP/2.0/UDP ${this.local};branch=z9hG4bK-${token(6)};rport`,
        `From: <sip:customer@127.0.0.1>;tag=${this.tag}`,
        `To: <sip:${user}@${gw}>;tag=${this.toTag}`,
        `Call-ID: ${this.callId}`,
        'CSeq: 1 ACK',
        'Max-Forwards: 70',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n');
      this.sip.send(ack, this.gateway.port, this.gateway.host);
      this.dialogUser = user;
      this.startAudio();
    }
    return status;
  }

  private dialogUser = 'pay';

  /** Hangs up (RFC 3261 15.1.1: BYE in the dialog, along its route set); no wait for the 200. */
  bye(): void {
    const gw = `${this.gateway.host}:${this.gateway.port}`;
    const bye = [
      `BYE ${this.remoteTarget ?? `sip:${this.dialogUser}@${gw}`} SIP/2.0`,
      ...this.routeSet.map((r) => `Route: ${r}`),
      `Via: SIP/2.0/UDP ${this.local};branch=z9hG4bK-${token(6)};rport`,
      `From: <sip:customer@127.0.0.1>;tag=${this.tag}`,
      `To: <sip:${this.dialogUser}@${gw}>;tag=${this.toTag}`,
      `Call-ID: ${this.callId}`,
      `CSeq: ${this.cseq++} BYE`,
      'Max-Forwards: 70',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
    this.stopAudio();
    this.sip.send(bye, this.gateway.port, this.gateway.host);
  }

  private packet(pt: number, marker: boolean, payload: Buffer, ts = this.ts): Buffer {
    const b = Buffer.alloc(12 + payload.length);
    b[0] = 0x80;
    b[1] = (marker ? 0x80 : 0) | pt;
    b.writeUInt16BE(this.seq++ & 0xffff, 2);
    b.writeUInt32BE(ts >>> 0, 4);
    b.writeUInt32BE(this.ssrc, 8);
    payload.copy(b, 12);
    return b;
  }

  private send(b: Buffer): void {
    if (this.remoteRtp) this.rtp.send(b, this.remoteRtp.port, this.remoteRtp.address);
  }

  private startAudio(): void {
    const silence = Buffer.alloc(160, ULAW_SILENCE);
    this.audio = setInterval(() => {
      if (this.keying) return;
      this.send(this.packet(0, false, silence));
      this.ts += 160;
    }, 20);
  }

  private stopAudio(): void {
    if (this.audio) clearInterval(this.audio);
    this.audio = undefined;
  }

  /** Keys `digits` as RFC 4733 events of `onMs`, `gapMs` apart. */
  async keysRfc4733(digits: string, onMs = 80, gapMs = 80): Promise<void> {
    for (const key of digits) {
      this.keying = true;
      const code = EVENT_CODE[key] ?? Number(key);
      const start = this.ts;
      const ev = (dur: number, end: boolean): Buffer => Buffer.from([code, (end ? 0x80 : 0) | 10, (dur >> 8) & 0xff, dur & 0xff]);
      const firstAt = nowMs();
      this.send(this.packet(101, true, ev(160, false), start));
      for (let t = 20; t < onMs; t += 20) {
        await sleep(20);
        this.send(this.packet(101, false, ev(t * 8 + 160, false), start));
      }
      await sleep(20);
      const endAt = nowMs();
      const last = this.packet(101, false, ev(onMs * 8, true), start);
      for (let i = 0; i < 3; i++) this.send(last); // RFC 4733 2.5.1.4: the end packet, three times
      this.ts = start + onMs * 8;
      this.keys.push({ key, firstAt, endAt });
      this.keying = false;
      await sleep(gapMs);
    }
  }

  /**
   * Keys `digits` as DTMF tones (-10 dBm0 per tone, ITU-T Q.23 pairs) in the µ-law stream, `onMs`
   * on and `gapMs` off, paced on a 20 ms schedule. firstAt: the first packet holding the tone left;
   * endAt: the packet holding the tone's end left.
   */
  async keysInband(digits: string, onMs = 80, gapMs = 80): Promise<void> {
    const frame = 160;
    for (const key of digits) {
      this.keying = true;
      const pcm = channel(dtmfSignal(key, { onMs, offMs: gapMs }));
      const ulaw = new Uint8Array(Math.ceil(pcm.length / frame) * frame).fill(ULAW_SILENCE);
      encodeUlaw(pcm, ulaw);
      const toneFrames = Math.ceil((onMs * 8) / frame);
      const t0 = performance.now();
      let firstAt = 0;
      let endAt = 0;
      for (let f = 0; f * frame < ulaw.length; f++) {
        const wait = t0 + f * 20 - performance.now();
        if (wait > 1) await sleep(wait);
        this.send(this.packet(0, false, Buffer.from(ulaw.buffer, ulaw.byteOffset + f * frame, frame)));
        this.ts += frame;
        if (f === 0) firstAt = nowMs();
        if (f === toneFrames - 1) endAt = nowMs();
      }
      this.keys.push({ key, firstAt, endAt });
      this.keying = false;
    }
  }

  /**
   * Keys `digits` as SIP INFO requests in the dialog (application/dtmf-relay: `Signal=`,
   * `Duration=`), one at a time: each waits for its final response (retransmitted per RFC 3261
   * 17.1.2.2 on UDP, T1 = 500 ms) and keys start `onMs + gapMs` apart. firstAt = endAt = when the
   * first copy of the INFO left. Resolves false if a key got no 2xx.
   */
  async keysInfo(digits: string, onMs = 80, gapMs = 80): Promise<boolean> {
    const gw = `${this.gateway.host}:${this.gateway.port}`;
    let ok = true;
    for (const key of digits) {
      const started = performance.now();
      const cseq = this.cseq++;
      const body = `Signal=${key}\r\nDuration=${onMs * 2}\r\n`;
      const info = [
        `INFO ${this.remoteTarget ?? `sip:${this.dialogUser}@${gw}`} SIP/2.0`,
        ...this.routeSet.map((r) => `Route: ${r}`),
        `Via: SIP/2.0/UDP ${this.local};branch=z9hG4bK-${token(6)};rport`,
        `From: <sip:customer@127.0.0.1>;tag=${this.tag}`,
        `To: <sip:${this.dialogUser}@${gw}>;tag=${this.toTag}`,
        `Call-ID: ${this.callId}`,
        `CSeq: ${cseq} INFO`,
        'Max-Forwards: 70',
        'Content-Type: application/dtmf-relay',
        `Content-Length: ${Buffer.byteLength(body)}`,
        '',
        body,
      ].join('\r\n');
      const final = new Promise<number>((r) => this.pendingNonInvite.set(cseq, r));
      const at = nowMs();
      this.sip.send(info, this.gateway.port, this.gateway.host);
      let interval = 500;
      let status: number | undefined;
      for (let waited = 0; status === undefined && waited < 32_000; waited += interval, interval = Math.min(interval * 2, 4000)) {
        status = await Promise.race([final, sleep(interval).then(() => undefined)]);
        if (status === undefined) this.sip.send(info, this.gateway.port, this.gateway.host);
      }
      this.pendingNonInvite.delete(cseq);
      if (status === undefined || status >= 300) ok = false;
      this.keys.push({ key, firstAt: at, endAt: at });
      const rest = onMs + gapMs - (performance.now() - started);
      if (rest > 1) await sleep(rest);
    }
    return ok;
  }

  close(): void {
    this.stopAudio();
    this.sip.close();
    this.rtp.close();
  }
}

