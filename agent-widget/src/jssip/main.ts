import '../ui/base.css';
import { UA, WebSocketInterface } from 'jssip';
import type { PeerConnectionEvent, RTCSession } from 'jssip/lib/RTCSession.js';
import type { IncomingRTCSessionEvent, RTCSessionEvent } from 'jssip/lib/UA.js';
import { handoffHeaders } from '../softphone/refer.js';
import { loadWidgetConfig, sipSocketUrl } from '../ui/config.js';
import { chosenLanguage, languageChoice, type LanguageChoice } from '../ui/languages.js';
import { byId, show } from '../ui/dom.js';

/**
 * /agent-jssip: the smallest agent that proves the gateway works with JsSIP (see
 * sip-profiles/jssip/README.md). JsSIP registers over WebSocket with `+sip.ice` on its Contact by
 * itself, answers with audio, and sends the same in-dialog REFER to `sip:pay@<sipHost>` with the
 * X-Pay-* headers as the sip.js widget; the NOTIFY sipfrags are shown as they come.
 */
const reg = byId('reg-status');
const callState = byId('call-state');
const referState = byId('refer-state');
const answerBtn = byId('answer', HTMLButtonElement);
const hangupBtn = byId('hangup', HTMLButtonElement);
const payForm = byId('pay-form', HTMLFormElement);
const audio = byId('remote-audio', HTMLAudioElement);
let session: RTCSession | null = null;

const value = (id: string): string => byId(id, HTMLInputElement).value.trim();

function setReg(text: string, cls: string): void {
  reg.textContent = text;
  reg.className = `pill ${cls}`;
}

function onSession(s: RTCSession, remote: string): void {
  if (session) return void s.terminate({ status_code: 486 });
  session = s;
  callState.textContent = `Incoming call from ${remote}`;
  show(answerBtn, true);
  s.on('peerconnection', ({ peerconnection }: PeerConnectionEvent) => {
    peerconnection.addEventListener('track', (e: RTCTrackEvent) => {
      audio.srcObject = e.streams[0] ?? new MediaStream([e.track]);
      void audio.play().catch(() => undefined);
    });
  });
  s.on('confirmed', () => {
    callState.textContent = `On call with ${remote}`;
    show(answerBtn, false);
    show(hangupBtn, true);
    show(payForm, true);
  });
  const ended = (): void => {
    session = null;
    callState.textContent = 'Call ended';
    for (const el of [answerBtn, hangupBtn, payForm]) show(el, false);
  };
  s.on('ended', ended);
  s.on('failed', ended);
}

function pay(agentId: string, sipHost: string, languages: LanguageChoice): void {
  const s = session;
  if (!s) return;
  const headers = handoffHeaders({
    amount: value('amount'), currency: 'INR', merchantId: value('merchant'), orderRef: value('order-ref'),
    customerMobile: value('mobile'), agentId, language: chosenLanguage(byId('language', HTMLSelectElement).value, languages),
  });
  referState.textContent = 'REFER sent';
  const frag = (e: { status_line?: { status_code: number; reason_phrase: string } }): string =>
    e.status_line ? `${e.status_line.status_code} ${e.status_line.reason_phrase}` : '';
  s.refer(`sip:pay@${sipHost}`, {
    extraHeaders: headers,
    eventHandlers: {
      requestSucceeded: () => (referState.textContent = 'REFER accepted (202)'),
      requestFailed: (e: { response?: { status_code: number; reason_phrase: string } }) =>
        (referState.textContent = `REFER refused: ${e.response ? `${e.response.status_code} ${e.response.reason_phrase}` : 'no answer'}`),
      trying: (e: { status_line?: { status_code: number; reason_phrase: string } }) => (referState.textContent = `Payment: ${frag(e)}`),
      accepted: (e: { status_line?: { status_code: number; reason_phrase: string } }) => (referState.textContent = `Payment: ${frag(e)}`),
      failed: (e: { status_line?: { status_code: number; reason_phrase: string } }) => (referState.textContent = `Payment: ${frag(e)}`),
    },
  });
}

async function boot(): Promise<void> {
  const config = await loadWidgetConfig();
  const languages = languageChoice(config.languages, config.defaultLanguage);
  for (const l of languages.options) byId('language', HTMLSelectElement).append(new Option(l.label, l.code, l.code === languages.selected, l.code === languages.selected));
  byId('login-form', HTMLFormElement).addEventListener('submit', (e) => {
    e.preventDefault();
    const agentId = value('agent-id');
    const ua = new UA({
      sockets: [new WebSocketInterface(sipSocketUrl(config))],
      uri: `sip:${agentId}@${config.sipHost}`,
      password: byId('password', HTMLInputElement).value,
      register: true,
      register_expires: 300,
    });
    setReg('Registering…', 'pill-busy');
    ua.on('registered', () => {
      setReg('Registered', 'pill-ok');
      callState.textContent = 'Waiting for calls';
      show(byId('login-form'), false);
    });
    ua.on('registrationFailed', (ev) => setReg(`Not registered (${ev.cause ?? 'failed'})`, 'pill-bad'));
    ua.on('newRTCSession', (ev: RTCSessionEvent) => {
      if (ev.originator !== 'remote') return;
      const s = (ev as IncomingRTCSessionEvent).session;
      onSession(s, s.remote_identity.display_name || s.remote_identity.uri.user);
    });
    answerBtn.addEventListener('click', () => session?.answer({ mediaConstraints: { audio: true, video: false } }));
    hangupBtn.addEventListener('click', () => session?.terminate());
    payForm.addEventListener('submit', (ev) => {
      ev.preventDefault();
      pay(agentId, config.sipHost, languages);
    });
    ua.start();
  });
}

boot().catch((err: unknown) => setReg(`The page could not start: ${err instanceof Error ? err.message : String(err)}`, 'pill-bad'));
