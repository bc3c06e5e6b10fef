import { Invitation, Registerer, RegistererState, SessionState, UserAgent, Web, type Session, type SessionDescriptionHandlerOptions } from 'sip.js';
import type { IncomingResponse } from 'sip.js/lib/core/messages/incoming-response.js';
import { Emitter } from '../lib/emitter.js';
import { DigestCredentials } from './digest.js';
import { parseSipfrag, type ReferProgress } from './refer.js';

/**
 * The agent's softphone, no UI: a sip.js UserAgent over WebSocket (RFC 7118) to the gateway's
 * `/sip` or the agents' proxy (SIP_WS_URL), a Registerer (digest auth) kept registered, one call at a time (incoming Invitation answer/reject,
 * hang-up, hold by re-INVITE, local mute) and the in-dialog REFER that hands the call to payment.
 */
export type RegistrationState = 'offline' | 'connecting' | 'registering' | 'registered' | 'failed';
export type CallState = 'idle' | 'ringing' | 'connecting' | 'connected' | 'ended';

export interface CallInfo {
  state: CallState;
  /** The caller's display name or user part. */
  remote: string;
  held: boolean;
  muted: boolean;
  /** Why the call ended (`hung-up`, `rejected`, `cancelled`, `failed`). */
  endReason?: string;
}

export interface SoftphoneEvents extends Record<string, unknown> {
  registration: { state: RegistrationState; error?: string; code?: number };
  call: CallInfo;
  refer: ReferProgress;
}

export interface SoftphoneOptions {
  /** `ws://host:port/sip` on the gateway, or the agents' proxy (SIP_WS_URL, e.g. `wss://sip.example.com/`). */
  wsUrl: string;
  /** The gateway's SIP domain (config SIP_HOST). */
  domain: string;
  agentId: string;
  password: string;
  /** Where the far end is heard. */
  audio: HTMLAudioElement;
}

/** Seconds before registering again after a lost registration, doubled per failure up to RETRY_MAX_S. */
const RETRY_FIRST_S = 2;
const RETRY_MAX_S = 30;

export class Softphone extends Emitter<SoftphoneEvents> {
  private ua: UserAgent | null = null;
  private registerer: Registerer | null = null;
  private session: Session | null = null;
  private info: CallInfo = { state: 'idle', remote: '', held: false, muted: false };
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private retryDelayS = RETRY_FIRST_S;

  constructor(private readonly opts: SoftphoneOptions) {
    super();
  }

  get call(): Readonly<CallInfo> {
    return this.info;
  }

  /** Connects and registers; resolves when registered, rejects with a message the page can show. */
  async start(): Promise<void> {
    const uri = UserAgent.makeURI(`sip:${this.opts.agentId}@${this.opts.domain}`);
    if (!uri) throw new Error('That agent id cannot be used in a SIP address');
    const ua = new UserAgent({
      uri,
      transportOptions: { server: this.opts.wsUrl, traceSip: false },
      authorizationUsername: this.opts.agentId,
      authorizationPassword: this.opts.password,
      logLevel: 'warn',
      sessionDescriptionHandlerFactoryOptions: { iceGatheringTimeout: 500 },
      delegate: { onInvite: (inv) => this.onInvite(inv) },
    });
    // SHA-256 and MD5 digest (see digest.ts); sip.js reads the factory each time it is challenged.
    ua.userAgentCore.configuration.authenticationFactory = () => new DigestCredentials(ua.getLoggerFactory(), this.opts.agentId, this.opts.password);
    this.ua = ua;
    this.emit('registration', { state: 'connecting' });
    try {
      await ua.start();
    } catch {
      this.emit('registration', { state: 'failed', error: 'Cannot reach the gateway' });
      throw new Error('Cannot reach the gateway');
    }
    ua.transport.onDisconnect = (err) => {
      if (err) this.emit('registration', { state: 'failed', error: 'Connection to the gateway lost' });
    };
    // '+sip.ice' (RFC 5768): tells the gateway this agent's media is WebRTC (ICE + DTLS-SRTP).
    // Refresh at 90 % of the interval (sip.js's default, 99 %, leaves 3 s of 300): a refresh that a
    // proxy must move off a dead gateway (Kamailio's fr_timer, 4 s) still lands before the binding expires.
    const registerer = (this.registerer = new Registerer(ua, { expires: 300, refreshFrequency: 90, extraContactHeaderParams: ['+sip.ice'] }));
    this.emit('registration', { state: 'registering' });
    await new Promise<void>((resolve, reject) => {
      const onState = (s: RegistererState): void => {
        if (s === RegistererState.Registered) {
          off();
          this.emit('registration', { state: 'registered' });
          resolve();
        }
      };
      const off = (): void => registerer.stateChange.removeListener(onState);
      registerer.stateChange.addListener(onState);
      registerer
        .register({
          requestDelegate: {
            onReject: (res: IncomingResponse) => {
              off();
              const code = res.message.statusCode ?? 0;
              const error = code === 403 || code === 401 ? 'Wrong agent id or password' : `Registration refused (${code} ${res.message.reasonPhrase ?? ''})`.trim();
              this.emit('registration', { state: 'failed', error, code });
              reject(new Error(error));
            },
          },
        })
        .catch((err: unknown) => {
          off();
          const error = err instanceof Error ? err.message : 'Registration failed';
          this.emit('registration', { state: 'failed', error });
          reject(new Error(error));
        });
    });
    this.keepRegistered(ua, registerer);
  }

  /**
   * Once registered, the binding is kept: a refresh (RFC 3261 10.2.4) that is refused or times out
   * (sip.js then leaves the Registerer unregistered and tries no more), or a lost connection, is
   * followed by a new REGISTER (after reconnecting) in Retry-After seconds (RFC 3261 20.33) or
   * RETRY_FIRST_S, doubling up to RETRY_MAX_S. Behind a proxy in front of several gateways the
   * refresh is what moves the binding off a gateway that died (README, "Agents across instances").
   */
  private keepRegistered(ua: UserAgent, registerer: Registerer): void {
    registerer.stateChange.addListener((s) => {
      if (this.ua !== ua) return; // stop(): unregistering on purpose
      if (s === RegistererState.Registered) {
        clearTimeout(this.retryTimer); // a REGISTER already under way got through
        this.retryTimer = undefined;
        this.retryDelayS = RETRY_FIRST_S;
        this.emit('registration', { state: 'registered' });
      } else if (s === RegistererState.Unregistered) {
        this.emit('registration', { state: 'failed', error: 'Registration lost; registering again' });
        this.retryLater(ua, registerer, registerer.retryAfter);
      }
    });
    ua.transport.onDisconnect = (err) => {
      if (!err || this.ua !== ua) return;
      this.emit('registration', { state: 'failed', error: 'Connection to the gateway lost; reconnecting' });
      this.retryLater(ua, registerer);
    };
  }

  private retryLater(ua: UserAgent, registerer: Registerer, retryAfterS?: number): void {
    if (this.retryTimer !== undefined) return;
    const delayS = retryAfterS ?? this.retryDelayS;
    this.retryDelayS = Math.min(RETRY_MAX_S, this.retryDelayS * 2);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.ua !== ua) return;
      void (async () => {
        try {
          if (!ua.isConnected()) await ua.reconnect();
          this.emit('registration', { state: 'registering' });
          await registerer.register(); // its outcome arrives as a state change (keepRegistered)
        } catch {
          this.retryLater(ua, registerer);
        }
      })();
    }, delayS * 1000);
  }

  /** Unregisters, hangs up and disconnects. Idempotent. */
  async stop(): Promise<void> {
    const ua = this.ua;
    this.ua = null;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    if (!ua) return;
    await this.hangup().catch(() => undefined);
    await this.registerer?.unregister().catch(() => undefined);
    await ua.stop().catch(() => undefined);
    this.emit('registration', { state: 'offline' });
  }

  async answer(): Promise<void> {
    const s = this.session;
    if (!(s instanceof Invitation) || s.state !== SessionState.Initial) return;
    this.update({ state: 'connecting' });
    await s.accept({ sessionDescriptionHandlerOptions: { constraints: { audio: true, video: false } } });
  }

  async reject(): Promise<void> {
    const s = this.session;
    if (s instanceof Invitation && s.state === SessionState.Initial) await s.reject({ statusCode: 486 });
  }

  async hangup(): Promise<void> {
    const s = this.session;
    if (!s) return;
    if (s.state === SessionState.Established) await s.bye();
    else if (s instanceof Invitation && s.state === SessionState.Initial) await s.reject({ statusCode: 486 });
  }

  /** Hold or resume by re-INVITE (a=sendonly / a=sendrecv). */
  async setHold(hold: boolean): Promise<void> {
    const s = this.session;
    if (!s || s.state !== SessionState.Established || this.info.held === hold) return;
    const options: SessionDescriptionHandlerOptions & { hold: boolean } = { hold };
    s.sessionDescriptionHandlerOptionsReInvite = options;
    await new Promise<void>((resolve, reject) => {
      s.invite({
        requestDelegate: {
          onAccept: () => {
            this.update({ held: hold });
            resolve();
          },
          onReject: (r) => reject(new Error(`Hold refused (${r.message.statusCode})`)),
        },
      }).catch(reject);
    });
  }

  /** Local microphone on/off (the gateway mutes the agent by itself during capture). */
  setMute(muted: boolean): void {
    const sdh = this.session?.sessionDescriptionHandler;
    if (sdh instanceof Web.SessionDescriptionHandler) sdh.enableSenderTracks(!muted);
    this.update({ muted });
  }

  /**
   * Sends the in-dialog REFER handing the call to `target` (`sip:pay@<domain>`) with the
   * transaction in `headers` (`X-Pay-Amount: 1499.00`, ...). Progress (202, 4xx with Warning,
   * sipfrag NOTIFYs) arrives as `refer` events; the call is never hung up on a final NOTIFY.
   */
  async refer(target: string, headers: readonly string[]): Promise<void> {
    const s = this.session;
    const uri = UserAgent.makeURI(target);
    if (!s || s.state !== SessionState.Established) throw new Error('There is no call to hand over');
    if (!uri) throw new Error(`Bad payment address ${target}`);
    this.emit('refer', { stage: 'sent' });
    await s.refer(uri, {
      requestOptions: { extraHeaders: [...headers] },
      requestDelegate: {
        onAccept: (r) => this.emit('refer', { stage: 'accepted', code: r.message.statusCode ?? 202 }),
        onReject: (r) =>
          this.emit('refer', {
            stage: 'rejected',
            code: r.message.statusCode ?? 0,
            reason: r.message.reasonPhrase ?? '',
            ...(r.message.getHeader('warning') ? { warning: r.message.getHeader('warning') } : {}),
            ...(r.message.getHeader('retry-after') ? { retryAfter: r.message.getHeader('retry-after') } : {}),
          }),
      },
      onNotify: (n) => {
        void n.accept();
        const frag = parseSipfrag(n.request.body ?? '');
        if (frag) this.emit('refer', { stage: frag.code >= 200 ? 'done' : 'progress', code: frag.code, reason: frag.reason });
      },
    });
  }

  private onInvite(inv: Invitation): void {
    if (this.session && this.info.state !== 'ended' && this.info.state !== 'idle') {
      void inv.reject({ statusCode: 486 }); // busy: one call at a time
      return;
    }
    this.session = inv;
    const from = inv.remoteIdentity;
    this.info = { state: 'ringing', remote: from.displayName || from.uri.user || 'Unknown caller', held: false, muted: false };
    this.emit('call', this.info);
    inv.stateChange.addListener((st) => {
      if (st === SessionState.Established) {
        this.attachAudio(inv);
        this.update({ state: 'connected' });
      } else if (st === SessionState.Terminated) {
        const reason = this.info.state === 'ringing' ? 'missed' : 'hung-up';
        if (this.session === inv) this.session = null;
        this.opts.audio.srcObject = null;
        this.update({ state: 'ended', held: false, muted: false, endReason: reason });
      }
    });
  }

  private attachAudio(s: Session): void {
    const sdh = s.sessionDescriptionHandler;
    if (!(sdh instanceof Web.SessionDescriptionHandler)) return;
    this.opts.audio.srcObject = sdh.remoteMediaStream;
    this.opts.audio.play().catch(() => undefined); // autoplay may wait for a gesture; the answer click is one
  }

  private update(patch: Partial<CallInfo>): void {
    this.info = { ...this.info, ...patch };
    this.emit('call', this.info);
  }
}
