import type { CaptureEvent, CaptureField, Outcome, SessionRecord } from '../progress/types.js';

/**
 * The supervisor dashboard's model: a PURE reducer from what `/events` delivers (the `ready`
 * records, capture events, `session.resync`) and the session records fetched over REST, to one
 * row per session. No DOM, no clock: times are the gateway's (ISO strings -> epoch ms).
 *
 *   ready(records) ──► rows (a record never rolls a row back: ended stays ended)
 *   event          ──► row (seq <= row.lastSeq: ignored, it is a replay or out of order)
 *   resync(record) ──► row replaced by the record (null: the row is dropped)
 *   record (REST)  ──► fills what only records carry (instanceId, DTMF transport, merchant)
 */
export interface MaskedCard {
  readonly brand: string;
  readonly first6: string | null;
  readonly last4: string | null;
}

export interface SessionRow {
  readonly id: string;
  /** Gateway instance running the capture (scale-out); null until a record says. */
  readonly instanceId: string | null;
  /** Capture state (`greeting`, `pan`, ..., `paying`, `done`). */
  readonly state: string;
  readonly field: CaptureField | null;
  readonly outcome: Outcome | null;
  /** `approved`, the decline reason, `customer-hung-up`, ... */
  readonly reason: string | null;
  readonly orderRef: string;
  readonly amount: string;
  readonly currency: string;
  readonly merchantId: string | null;
  readonly agentId: string | null;
  readonly dtmfTransport: string | null;
  readonly card: MaskedCard | null;
  readonly paymentId: string | null;
  readonly startedAt: number;
  readonly endedAt: number | null;
  /** Last event seq applied (0: only a record so far). */
  readonly lastSeq: number;
  /** Known only from events that were not a `session.started`: a record should be fetched. */
  readonly partial: boolean;
}

export interface DashboardState {
  readonly rows: Readonly<Record<string, SessionRow>>;
}

export type DashboardAction =
  | { readonly kind: 'ready'; readonly sessions: readonly SessionRecord[] }
  | { readonly kind: 'event'; readonly event: CaptureEvent }
  | { readonly kind: 'resync'; readonly sessionId: string; readonly record: SessionRecord | null }
  | { readonly kind: 'record'; readonly record: SessionRecord };

export const emptyDashboard: DashboardState = { rows: {} };

/** Record fields this page reads beyond the mirrored type (instanceId is in every record today). */
type WireRecord = SessionRecord & { readonly instanceId?: string };

const time = (iso: string | null | undefined): number | null => {
  if (!iso) return null;
  const t = Date.parse(iso);
  return Number.isFinite(t) ? t : null;
};

/** First 6 / last 4 at most: anything else a record might carry is dropped here. */
function maskCard(card: SessionRecord['card']): MaskedCard | null {
  if (!card) return null;
  const first6 = /^\d{6}$/.test(card.first6) ? card.first6 : null;
  const last4 = /^\d{4}$/.test(card.last4) ? card.last4 : null;
  return { brand: card.brand, first6, last4 };
}

export function rowFromRecord(rec: SessionRecord, lastSeq = 0): SessionRow {
  const r = rec as WireRecord;
  return {
    id: r.id,
    instanceId: r.instanceId ?? null,
    state: r.state,
    field: r.field ?? null,
    outcome: r.outcome,
    reason: r.outcome === 'paid' ? 'approved' : (r.failureReason ?? null),
    orderRef: r.orderRef,
    amount: r.amount,
    currency: r.currency,
    merchantId: r.merchantId ?? null,
    agentId: r.agentId,
    dtmfTransport: r.dtmfTransport,
    card: maskCard(r.card),
    paymentId: r.paymentId ?? null,
    startedAt: time(r.startedAt) ?? 0,
    endedAt: time(r.endedAt),
    lastSeq,
    partial: false,
  };
}

/**
 * Merges a record into a row the page already has. Fields only records carry are taken when set;
 * the progress fields only when the record is at least as far along (it may have been read before
 * the events the row has already applied: an ended row never goes back to live).
 */
export function mergeRecord(row: SessionRow | undefined, rec: SessionRecord): SessionRow {
  const fresh = rowFromRecord(rec, row?.lastSeq ?? 0);
  if (!row) return fresh;
  const extra = {
    instanceId: fresh.instanceId ?? row.instanceId,
    dtmfTransport: fresh.dtmfTransport ?? row.dtmfTransport,
    merchantId: fresh.merchantId ?? row.merchantId,
    paymentId: fresh.paymentId ?? row.paymentId,
    partial: false,
  };
  if (row.outcome !== null && fresh.outcome === null) return { ...row, ...extra };
  if (row.partial || (fresh.outcome !== null && row.outcome === null)) return { ...fresh, ...extra };
  // Both live (or both ended): keep the event-driven progress, fill in what is missing.
  return {
    ...row,
    ...extra,
    card: row.card?.last4 ? row.card : (fresh.card ?? row.card),
    endedAt: row.endedAt ?? fresh.endedAt,
    reason: row.reason ?? fresh.reason,
  };
}

/** A row for a session whose first event here is not `session.started` (fill it from a record); every event names the agent. */
function partialRow(e: CaptureEvent): SessionRow {
  return {
    id: e.sessionId, instanceId: null, state: 'unknown', field: null, outcome: null, reason: null,
    orderRef: '', amount: '', currency: '', merchantId: null, agentId: e.agentId ?? null, dtmfTransport: null,
    card: null, paymentId: null, startedAt: time(e.at) ?? 0, endedAt: null, lastSeq: 0, partial: true,
  };
}

const FIELD_STATE: Record<CaptureField, string> = { pan: 'pan', expiry: 'expiry', cvv: 'cvv', otp: 'otp-entry' };
const STAGE_STATE = { 'otp-validate': 'otp-validate', payment: 'paying', confirm: 'confirming' } as const;

/** One capture event applied to its row (the row exists or is `session.started`'s). */
export function applyEvent(row: SessionRow | undefined, e: CaptureEvent): SessionRow {
  if (e.type === 'session.started') {
    const base = row && !row.partial ? row : undefined;
    return {
      ...(row ?? partialRow(e)),
      orderRef: e.orderRef, amount: e.amount, currency: e.currency, merchantId: e.merchantId, agentId: e.agentId,
      state: base?.state ?? 'greeting', startedAt: time(e.at) ?? row?.startedAt ?? 0, lastSeq: e.seq, partial: false,
    };
  }
  const r: SessionRow = { ...(row ?? partialRow(e)), lastSeq: e.seq };
  switch (e.type) {
    case 'field.started':
      return { ...r, state: FIELD_STATE[e.field], field: e.field };
    case 'field.completed':
      return { ...r, field: null };
    case 'card.identified':
      if (e.complete) return { ...r, card: { brand: e.brand, first6: e.first6 ?? null, last4: e.last4 ?? null } };
      return { ...r, card: r.card?.last4 ? r.card : { brand: e.brand, first6: null, last4: null } };
    case 'field.cleared':
      // The PAN is keyed again: the earlier card no longer stands.
      return e.field === 'pan' ? { ...r, card: null } : r;
    case 'otp.sent':
      return { ...r, state: 'otp-sms', field: null };
    case 'payment.processing':
      return { ...r, state: STAGE_STATE[e.stage], field: null };
    case 'session.ended':
      return {
        ...r, state: 'done', field: null, outcome: e.outcome, reason: e.reason,
        paymentId: e.paymentId ?? r.paymentId, endedAt: time(e.at) ?? r.endedAt,
      };
    case 'session.reconciled':
      return { ...r, outcome: e.outcome, reason: e.reason, paymentId: e.paymentId ?? r.paymentId };
    default:
      return r; // prompt.playing, digit.entered, field.failed, provider.issue: no column changes
  }
}

function put(state: DashboardState, row: SessionRow): DashboardState {
  return { rows: { ...state.rows, [row.id]: row } };
}

export function reduce(state: DashboardState, action: DashboardAction): DashboardState {
  switch (action.kind) {
    case 'ready': {
      const rows: Record<string, SessionRow> = { ...state.rows };
      for (const rec of action.sessions) rows[rec.id] = mergeRecord(rows[rec.id], rec);
      return { rows };
    }
    case 'event': {
      const e = action.event;
      const row = state.rows[e.sessionId];
      if (row && e.seq <= row.lastSeq) return state; // a replay or out of order: already applied
      return put(state, applyEvent(row, e));
    }
    case 'resync': {
      if (!action.record) {
        const { [action.sessionId]: _gone, ...rows } = state.rows;
        return { rows };
      }
      const row = state.rows[action.sessionId];
      // Events were lost: the record is the truth now (keep the seq so replays stay ignored).
      return put(state, { ...rowFromRecord(action.record, row?.lastSeq ?? 0), id: action.sessionId });
    }
    case 'record':
      return put(state, mergeRecord(state.rows[action.record.id], action.record));
  }
}

/** Sessions whose row lacks what only a record carries: worth a `GET /api/sessions/:id`. */
export function needsRecord(row: SessionRow): boolean {
  return row.partial || row.instanceId === null || row.dtmfTransport === null;
}
