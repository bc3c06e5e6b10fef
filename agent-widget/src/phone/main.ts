import './phone.css';
import { Inviter, SessionState, UserAgent, Web, type Session } from 'sip.js';
import { loadWidgetConfig, socketUrl } from '../ui/config.js';
import { byId, show } from '../ui/dom.js';
import { startInbox } from './sms-inbox.js';

/**
 * The demo customer phone (/phone): a sip.js UA that calls `sip:support@<SIP_HOST>` over the
 * gateway's WebSocket with audio, a keypad that sends RFC 4733 events through RTCDTMFSender, and
 * (demo mode) the SMS inbox so one person can read the OTP. It does not register: the gateway
 * accepts calls to support from any caller.
 */
const KEYS: readonly [string, string][] = [
  ['1', ''], ['2', 'ABC'], ['3', 'DEF'], ['4', 'GHI'], ['5', 'JKL'], ['6', 'MNO'],
  ['7', 'PQRS'], ['8', 'TUV'], ['9', 'WXYZ'], ['*', ''], ['0', '+'], ['#', ''],
];

const status = byId('phone-status');
const callBtn = byId('call', HTMLButtonElement);
const hangupBtn = byId('hangup', HTMLButtonElement);
const error = byId('call-error');
const keyed = byId('keyed');
const audio = byId('remote-audio', HTMLAudioElement);
let ua: UserAgent | null = null;
let session: Session | null = null;

function setStatus(text: string, cls: 'pill-off' | 'pill-busy' | 'pill-ok' | 'pill-bad'): void {
  status.textContent = text;
  status.className = `pill ${cls}`;
}

function fail(message: string): void {
  error.textContent = message;
  show(error, true);
}

function sendDigit(d: string): void {
  keyed.textContent = (keyed.textContent ?? '') + d;
  const sdh = session?.sessionDescriptionHandler;
  if (!(sdh instanceof Web.SessionDescriptionHandler) || session?.state !== SessionState.Established) return;
  const dtmf = sdh.peerConnection?.getSenders().find((s) => s.track?.kind === 'audio')?.dtmf;
  if (!dtmf) return;
  // 100 ms tone, 70 ms gap (RFC 4733 events, what the gateway's receiver expects). insertDTMF()
  // replaces the tones still queued (WebRTC 7.2), so keys pressed quickly are appended to them.
  dtmf.insertDTMF(dtmf.toneBuffer + d, 100, 70);
}

function buildKeypad(): void {
  const pad = byId('keypad');
  for (const [digit, letters] of KEYS) {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'key';
    b.dataset.digit = digit;
    b.setAttribute('aria-label', digit === '*' ? 'star' : digit === '#' ? 'hash' : digit);
    b.append(digit);
    const small = document.createElement('small');
    small.textContent = letters;
    small.setAttribute('aria-hidden', 'true');
    b.append(small);
    b.addEventListener('click', () => sendDigit(digit));
    pad.append(b);
  }
  document.addEventListener('keydown', (e) => {
    if (e.target instanceof HTMLInputElement || e.ctrlKey || e.metaKey || e.altKey) return;
    if (/^[0-9*#]$/.test(e.key)) sendDigit(e.key);
  });
}

async function call(domain: string, target: string): Promise<void> {
  show(error, false);
  const to = UserAgent.makeURI(target.includes('@') ? `sip:${target.replace(/^sip:/, '')}` : `sip:${target}@${domain}`);
  if (!to) return fail('That is not a number or SIP address.');
  if (!ua) {
    const me = UserAgent.makeURI(`sip:customer-${Math.random().toString(36).slice(2, 8)}@${domain}`);
    ua = new UserAgent({ ...(me ? { uri: me } : {}), transportOptions: { server: socketUrl('/sip') }, logLevel: 'warn' });
    await ua.start();
  }
  const inviter = new Inviter(ua, to, { sessionDescriptionHandlerOptions: { constraints: { audio: true, video: false } } });
  session = inviter;
  keyed.textContent = '';
  inviter.stateChange.addListener((s) => {
    if (s === SessionState.Establishing) setStatus('Calling…', 'pill-busy');
    if (s === SessionState.Established) {
      setStatus('Connected', 'pill-ok');
      const sdh = inviter.sessionDescriptionHandler;
      if (sdh instanceof Web.SessionDescriptionHandler) {
        audio.srcObject = sdh.remoteMediaStream;
        audio.play().catch(() => undefined);
      }
    }
    if (s === SessionState.Terminated) {
      setStatus('Idle', 'pill-off');
      session = null;
      audio.srcObject = null;
      show(callBtn, true);
      show(hangupBtn, false);
    }
  });
  show(callBtn, false);
  show(hangupBtn, true);
  await inviter.invite({
    requestDelegate: { onReject: (r) => fail(`The call was refused: ${r.message.statusCode} ${r.message.reasonPhrase}`) },
  });
}

async function hangup(): Promise<void> {
  const s = session;
  if (!s) return;
  if (s.state === SessionState.Established) await s.bye();
  else if (s instanceof Inviter) await s.cancel();
}

async function boot(): Promise<void> {
  const config = await loadWidgetConfig();
  const dial = byId('dial-to', HTMLInputElement);
  dial.value = `support@${config.sipHost}`;
  buildKeypad();
  callBtn.addEventListener('click', () => void call(config.sipHost, dial.value.trim()).catch((e: unknown) => fail(e instanceof Error ? e.message : String(e))));
  hangupBtn.addEventListener('click', () => void hangup().catch(() => undefined));
  if (config.demo) {
    show(byId('sms'), true);
    startInbox(byId('sms-list'), byId('sms-empty'));
  }
}

boot().catch((e: unknown) => fail(`The page could not start: ${e instanceof Error ? e.message : String(e)}`));
