import './supervisor.css';
import { ProgressClient, type ConnectionState } from '../progress/client.js';
import type { SessionRecord } from '../progress/types.js';
import { loadWidgetConfig, socketUrl } from '../ui/config.js';
import { byId, show } from '../ui/dom.js';
import { renderChart, scaleText } from './chart.js';
import { outcomeAnnouncement } from './format.js';
import { KpiView } from './kpis.js';
import { emptyDashboard, needsRecord, reduce, type DashboardAction, type DashboardState } from './model.js';
import { RecordFetcher } from './records.js';
import { agentsOf, hasInstances, timeline, totals, visibleRows, type Filters, type StatusFilter } from './stats.js';
import { SessionsTable } from './table.js';

/**
 * The supervisor dashboard (/supervisor): sign in with the supervisor token, then a live table of
 * every session from the `/events` socket (the supervisor principal sees all), with totals, capture
 * time percentiles and outcomes over time. The model is the pure reducer in model.ts; this file
 * wires the socket, REST records, the controls and the 1-second tick to it.
 */
const TOKEN_KEY = 'tonegate.supervisor.token';
/** Rows in the table at most (the DOM stays small; totals and the chart still count every session). */
const MAX_ROWS = 200;

const login = byId('login');
const loginForm = byId('login-form', HTMLFormElement);
const loginError = byId('login-error');
const tokenInput = byId('token', HTMLInputElement);
const supName = byId('sup-name', HTMLInputElement);
const supPassword = byId('sup-password', HTMLInputElement);
const supCode = byId('sup-code', HTMLInputElement);

/** Named account + TOTP code -> a supervisor token (`POST /api/supervisors/login`), or an error text. */
async function namedSignIn(): Promise<{ token: string } | { error: string }> {
  try {
    const res = await fetch('/api/supervisors/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: supName.value.trim(), password: supPassword.value, code: supCode.value.trim() }),
    });
    if (res.status === 429) return { error: `Too many sign-in attempts. Try again in ${res.headers.get('retry-after') ?? 'a few'} s.` };
    if (!res.ok) return { error: 'Wrong name, password or code.' };
    const body = (await res.json()) as { token?: unknown };
    return typeof body.token === 'string' ? { token: body.token } : { error: 'The gateway gave no token.' };
  } catch {
    return { error: 'Cannot reach the gateway.' };
  }
}
const signIn = byId('sign-in', HTMLButtonElement);
const signOut = byId('sign-out', HTMLButtonElement);
const dashboard = byId('dashboard');
const connPill = byId('conn-status');
const connNotice = byId('conn-notice');
const live = byId('live');
const fStatus = byId('f-status', HTMLSelectElement);
const fAgent = byId('f-agent', HTMLSelectElement);
const fText = byId('f-text', HTMLInputElement);
const showing = byId('showing');
const empty = byId('empty');
const chartHost = byId('chart');
const chartScale = byId('chart-scale');
const table = new SessionsTable(byId('rows', HTMLTableSectionElement), byId('sessions', HTMLTableElement));
const kpis = new KpiView();

let state: DashboardState = emptyDashboard;
let client: ProgressClient | null = null;
let fetcher: RecordFetcher | null = null;
let signedIn = false;
let frame = 0;
/** Gateway clock minus ours, estimated from event times (the smallest lag seen): elapsed uses gateway time. */
let skewMs: number | null = null;
const gatewayNow = (): number => Date.now() - (skewMs ?? 0);

let lastSaid = '';
function say(text: string): void {
  if (!text) return;
  live.textContent = text === lastSaid ? `${text}\u00a0` : text;
  lastSaid = text;
}

function filters(): Filters {
  return { status: fStatus.value as StatusFilter, agent: fAgent.value, text: fText.value };
}

function syncAgentOptions(): void {
  const want = ['', ...agentsOf(state)];
  const have = Array.from(fAgent.options, (o) => o.value);
  if (want.join('\n') === have.join('\n')) return;
  const current = fAgent.value;
  fAgent.replaceChildren(...want.map((id) => new Option(id || 'All agents', id)));
  fAgent.value = want.includes(current) ? current : '';
}

function render(): void {
  frame = 0;
  const now = gatewayNow();
  const rows = visibleRows(state, filters());
  const all = Object.keys(state.rows).length;
  syncAgentOptions();
  // The totals cover every row; the table shows the first MAX_ROWS (live first), filters narrow it.
  table.render(rows.slice(0, MAX_ROWS), now, hasInstances(state));
  kpis.render(totals(rows));
  const tl = timeline(rows, now);
  renderChart(chartHost, tl);
  chartScale.textContent = scaleText(tl);
  showing.textContent =
    rows.length > MAX_ROWS ? `Showing ${MAX_ROWS} of ${rows.length} matching (${all} in all): filter to narrow` : rows.length === all ? `${all} session${all === 1 ? '' : 's'}` : `Showing ${rows.length} of ${all}`;
  empty.textContent = all === 0 ? 'No sessions yet. They appear here the moment a payment starts.' : 'No session matches the filters.';
  show(empty, rows.length === 0);
}

function schedule(): void {
  if (!frame) frame = requestAnimationFrame(render);
}

function dispatch(action: DashboardAction): void {
  state = reduce(state, action);
  schedule();
}

const PILL: Record<ConnectionState, [string, string]> = {
  connecting: ['Connecting…', 'pill-busy'],
  authenticating: ['Signing in…', 'pill-busy'],
  open: ['Live', 'pill-ok'],
  waiting: ['Reconnecting…', 'pill-busy'],
  'auth-failed': ['Token refused', 'pill-bad'],
  closed: ['Signed out', 'pill-off'],
};

function setPill(s: ConnectionState): void {
  const [text, cls] = PILL[s];
  connPill.textContent = text;
  connPill.className = `pill ${cls}`;
}

function failLogin(message: string): void {
  loginError.textContent = message;
  show(loginError, true);
  signIn.disabled = false;
  signIn.textContent = 'Sign in';
  tokenInput.setAttribute('aria-invalid', 'true');
  tokenInput.focus();
}

function stop(): void {
  const c = client;
  client = null; // first: the state events close() emits are no longer this page's
  c?.close();
  fetcher?.stop();
  fetcher = null;
}

function showLogin(message?: string, pill: ConnectionState = 'closed'): void {
  stop();
  signedIn = false;
  state = emptyDashboard;
  skewMs = null;
  sessionStorage.removeItem(TOKEN_KEY);
  show(dashboard, false);
  show(signOut, false);
  show(login, true);
  setPill(pill);
  if (message) failLogin(message);
  else {
    signIn.disabled = false;
    signIn.textContent = 'Sign in';
    tokenInput.focus();
  }
}

function onReady(sessions: readonly SessionRecord[], principal: { kind: string } | undefined, token: string): void {
  if (principal && principal.kind !== 'supervisor') {
    showLogin('That is an agent’s token. The dashboard needs the supervisor token.', 'auth-failed');
    return;
  }
  if (!signedIn) {
    signedIn = true;
    sessionStorage.setItem(TOKEN_KEY, token);
    tokenInput.value = '';
    tokenInput.removeAttribute('aria-invalid');
    show(loginError, false);
    show(login, false);
    show(dashboard, true);
    show(signOut, true);
  }
  show(connNotice, false);
  dispatch({ kind: 'ready', sessions });
}

function connect(token: string, eventsPath: string): void {
  stop();
  const f = (fetcher = new RecordFetcher(token, (record) => dispatch({ kind: 'record', record })));
  const c = (client = new ProgressClient({ url: socketUrl(eventsPath), token, batch: true }));
  c.on('state', ({ state: s }) => {
    if (client !== c) return;
    setPill(s);
    if (s === 'auth-failed') {
      const why = signedIn ? 'The gateway no longer accepts this token (restarted with a new one?). Sign in again.' : 'The gateway refused that supervisor token. Check the token it printed at start.';
      showLogin(why, 'auth-failed');
    } else if (s === 'waiting') {
      if (signedIn) {
        connNotice.textContent = 'Connection to the gateway lost. Reconnecting; the table catches up when it is back.';
        show(connNotice, true);
      } else failLogin('Cannot reach the gateway. Retrying…');
    }
  });
  c.on('ready', ({ sessions, principal }) => {
    if (client !== c) return;
    onReady(sessions, principal, token);
    // Older sessions than ready's 50, so the totals cover the whole history the gateway keeps.
    if (signedIn) void f.all().then((all) => all && client === c && dispatch({ kind: 'ready', sessions: all }));
  });
  c.on('resync', ({ sessionId, record }) => dispatch({ kind: 'resync', sessionId, record }));
  c.on('event', (e) => {
    const lag = Date.now() - Date.parse(e.at);
    if (Number.isFinite(lag)) skewMs = skewMs === null ? lag : Math.min(skewMs, lag);
    const before = state.rows[e.sessionId];
    dispatch({ kind: 'event', event: e });
    const row = state.rows[e.sessionId];
    if (!row || row === before) return;
    const wanted = e.type === 'session.started' || e.type === 'session.ended' || (e.type === 'digit.entered' && row.dtmfTransport === null);
    if (wanted || (row.partial && needsRecord(row))) f.want(e.sessionId);
    if (e.type === 'session.ended' && !before?.outcome) say(outcomeAnnouncement(row));
  });
  c.start();
}

async function boot(): Promise<void> {
  const config = await loadWidgetConfig();
  loginForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const token = tokenInput.value.trim();
    show(loginError, false);
    if (supName.value.trim()) {
      signIn.disabled = true;
      signIn.textContent = 'Signing in…';
      void namedSignIn().then((r) => {
        supPassword.value = '';
        supCode.value = '';
        if ('error' in r) return failLogin(r.error);
        connect(r.token, config.eventsPath);
      });
      return;
    }
    if (!token) return failLogin('Enter the supervisor token.');
    signIn.disabled = true;
    signIn.textContent = 'Signing in…';
    connect(token, config.eventsPath);
  });
  tokenInput.addEventListener('input', () => tokenInput.removeAttribute('aria-invalid'));
  signOut.addEventListener('click', () => {
    showLogin();
    say('Signed out.');
  });
  for (const control of [fStatus, fAgent]) control.addEventListener('change', render);
  fText.addEventListener('input', render);
  byId('filters', HTMLFormElement).addEventListener('reset', () => setTimeout(render, 0));
  byId('filters', HTMLFormElement).addEventListener('submit', (e) => e.preventDefault());
  let chartWidth = 0;
  new ResizeObserver(() => {
    if (chartHost.clientWidth === chartWidth) return;
    chartWidth = chartHost.clientWidth;
    if (signedIn) schedule();
  }).observe(chartHost);
  setInterval(() => {
    if (!signedIn) return;
    table.tick(visibleRows(state, filters()).slice(0, MAX_ROWS), gatewayNow());
  }, 1000);
  // Outcomes slide along the time axis: redraw the chart now and then even without events.
  setInterval(() => signedIn && schedule(), 30_000);

  const saved = sessionStorage.getItem(TOKEN_KEY);
  if (saved) {
    signIn.disabled = true;
    signIn.textContent = 'Signing in…';
    connect(saved, config.eventsPath);
  } else tokenInput.focus();
}

boot().catch(() => failLogin('The gateway’s configuration could not be loaded. Reload the page to try again.'));
