import './agent.css';
import { ProgressClient } from '../progress/client.js';
import type { PaymentView } from '../progress/reducer.js';
import { Softphone, type RegistrationState } from '../softphone/softphone.js';
import { login, logout } from './auth.js';
import { CallPanel } from './call-panel.js';
import { loadWidgetConfig, sipSocketUrl, socketUrl, type WidgetConfig } from './config.js';
import { byId, show } from './dom.js';
import { originAllowed, prefillFromMessage, prefillFromQuery } from './prefill.js';
import { languageChoice } from './languages.js';
import { PayPanel } from './pay-panel.js';

/** The agent page (/agent): sign in, take calls, hand them to payment, follow the capture. */
const live = byId('live');
let lastSaid = '';
function say(text: string): void {
  if (!text) return;
  // Re-announce identical text by toggling a trailing no-break space.
  live.textContent = text === lastSaid ? `${text}\u00a0` : text;
  lastSaid = text;
}

const regPill = byId('reg-status');
const REG_TEXT: Record<RegistrationState, [string, string]> = {
  offline: ['Signed out', 'pill-off'],
  connecting: ['Connecting…', 'pill-busy'],
  registering: ['Registering…', 'pill-busy'],
  registered: ['Registered', 'pill-ok'],
  failed: ['Not registered', 'pill-bad'],
};
function showRegistration(s: RegistrationState): void {
  const [text, cls] = REG_TEXT[s];
  regPill.textContent = text;
  regPill.className = `pill ${cls}`;
}

function postToParent(config: WidgetConfig, message: unknown): void {
  if (window.parent === window) return;
  // Only to origins the gateway lists: a page we do not know learns nothing.
  for (const origin of config.embedOrigins) window.parent.postMessage(message, origin);
}

async function boot(): Promise<void> {
  const config = await loadWidgetConfig();
  const calls = new CallPanel(say);
  const pay = new PayPanel(config.sipHost, say, (v: PaymentView) =>
    postToParent(config, { type: 'tonegate:outcome', orderRef: v.orderRef, outcome: v.outcome?.outcome, reason: v.outcome?.reason, paymentId: v.outcome?.paymentId ?? null }),
  languageChoice(config.languages, config.defaultLanguage));
  pay.prefill(prefillFromQuery(location.search));
  window.addEventListener('message', (ev: MessageEvent) => {
    if (ev.source !== window.parent || !originAllowed(ev.origin, location.origin, config.embedOrigins)) return;
    const p = prefillFromMessage(ev.data);
    if (p) {
      pay.prefill(p);
      say('Payment details filled in from the CRM.');
    }
  });
  postToParent(config, { type: 'tonegate:ready' });

  const loginForm = byId('login-form', HTMLFormElement);
  const loginError = byId('login-error');
  const signIn = byId('sign-in', HTMLButtonElement);
  const signOut = byId('sign-out', HTMLButtonElement);
  const notice = byId('events-notice');
  let phone: Softphone | null = null;
  let events: ProgressClient | null = null;
  let token: string | null = null;

  const fail = (message: string): void => {
    loginError.textContent = message;
    show(loginError, true);
    signIn.disabled = false;
    signIn.textContent = 'Sign in';
  };

  loginForm.addEventListener('submit', (e) => {
    e.preventDefault();
    void (async () => {
      const agentId = byId('agent-id', HTMLInputElement).value.trim();
      const password = byId('password', HTMLInputElement).value;
      show(loginError, false);
      if (!agentId || !password) return fail('Enter your agent ID and password.');
      signIn.disabled = true;
      signIn.textContent = 'Signing in…';
      const auth = await login(config.loginPath, agentId, password);
      if (auth.kind === 'denied') {
        showRegistration('failed'); // refused before SIP: the pill says so, as after a 403 REGISTER
        return fail('Wrong agent ID or password.');
      }
      if (auth.kind === 'throttled') return fail(`Too many sign-in attempts. Try again ${auth.retryAfterS ? `in ${auth.retryAfterS} s` : 'in a minute'}.`);
      phone = new Softphone({ wsUrl: sipSocketUrl(config), domain: config.sipHost, agentId, password, audio: byId('remote-audio', HTMLAudioElement) });
      const offRegistration = phone.on('registration', (r) => showRegistration(r.state));
      try {
        await phone.start();
      } catch (err) {
        const p = phone;
        phone = null;
        offRegistration(); // keep showing why it failed, not the teardown
        void p.stop();
        return fail(err instanceof Error && /password/i.test(err.message) ? 'Wrong agent ID or password.' : `Could not register: ${err instanceof Error ? err.message : 'unknown error'}.`);
      }
      if (auth.kind === 'ok') {
        token = auth.token;
        events = new ProgressClient({ url: socketUrl(config.eventsPath), token: auth.token });
        events.on('state', ({ state }) => {
          const text = state === 'waiting' ? 'Live payment progress: reconnecting…' : state === 'auth-failed' ? 'Live payment progress stopped: sign in again.' : '';
          notice.textContent = text;
          show(notice, text !== '');
        });
        events.start();
      } else {
        notice.textContent = 'Live payment progress is unavailable: the gateway did not issue an events token.';
        show(notice, true);
      }
      calls.attach(phone);
      pay.attach(agentId, phone, events);
      show(byId('login'), false);
      show(byId('workspace'), true);
      show(signOut, true);
      byId('password', HTMLInputElement).value = '';
      say(`Signed in as ${agentId}. Registered for calls.`);
      byId('amount').focus();
    })();
  });

  signOut.addEventListener('click', () => {
    events?.close();
    events = null;
    const t = token;
    token = null;
    void (async () => {
      // The token is revoked at the gateway before the page forgets it (docs/security.md).
      if (t) await logout(config.loginPath.replace(/login$/, 'logout'), t);
      await phone?.stop();
      phone = null;
      location.reload();
    })();
  });
}

boot().catch((err: unknown) => {
  const e = byId('login-error');
  e.textContent = `The page could not start: ${err instanceof Error ? err.message : String(err)}`;
  show(e, true);
});
