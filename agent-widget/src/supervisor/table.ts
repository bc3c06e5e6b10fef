import type { SessionRow } from './model.js';
import { cardText, elapsedMs, duration, FIELD_LABEL, money, OUTCOME_LABEL, reasonText, stateLabel, transportLabel } from './format.js';

/**
 * The sessions table, keyed by session id: rows are created once and updated cell by cell (text
 * only, never HTML), so focus, selection and screen-reader position survive live updates. Below
 * 720 px the CSS turns each row into a card, labelled by each cell's `data-label`.
 */
const COLUMNS = ['order', 'outcome', 'state', 'field', 'agent', 'amount', 'card', 'dtmf', 'instance', 'elapsed', 'started'] as const;
type Column = (typeof COLUMNS)[number];

const LABELS: Record<Column, string> = {
  order: 'Order ref', outcome: 'Outcome', state: 'State', field: 'Field', agent: 'Agent', amount: 'Amount',
  card: 'Card', dtmf: 'DTMF', instance: 'Instance', elapsed: 'Elapsed', started: 'Started',
};

interface RowEls {
  tr: HTMLTableRowElement;
  cells: Record<Column, HTMLTableCellElement>;
  badge: HTMLSpanElement;
  reason: HTMLSpanElement;
  outcome: string | null;
}

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });

function setText(el: HTMLElement, text: string): void {
  if (el.textContent !== text) el.textContent = text;
}

export class SessionsTable {
  private readonly els = new Map<string, RowEls>();

  constructor(
    private readonly tbody: HTMLTableSectionElement,
    private readonly table: HTMLTableElement,
  ) {}

  /** Shows exactly `rows`, in that order. */
  render(rows: readonly SessionRow[], now: number, showInstance: boolean): void {
    this.table.classList.toggle('no-instance', !showInstance);
    const keep = new Set(rows.map((r) => r.id));
    for (const [id, e] of this.els) {
      if (!keep.has(id)) {
        e.tr.remove();
        this.els.delete(id);
      }
    }
    let prev: HTMLTableRowElement | null = null;
    for (const row of rows) {
      const e = this.els.get(row.id) ?? this.create(row.id);
      this.update(e, row, now);
      const want: ChildNode | null = prev ? prev.nextSibling : this.tbody.firstChild;
      if (want !== e.tr) this.tbody.insertBefore(e.tr, want);
      prev = e.tr;
    }
  }

  /** Updates only the Elapsed cells (the 1-second tick). */
  tick(rows: readonly SessionRow[], now: number): void {
    for (const row of rows) {
      const e = this.els.get(row.id);
      if (e && row.outcome === null) setText(e.cells.elapsed, duration(elapsedMs(row, now)));
    }
  }

  private create(id: string): RowEls {
    const tr = document.createElement('tr');
    tr.dataset.sessionId = id;
    const cells = {} as Record<Column, HTMLTableCellElement>;
    for (const c of COLUMNS) {
      const td = document.createElement(c === 'order' ? 'th' : 'td') as HTMLTableCellElement;
      if (c === 'order') td.setAttribute('scope', 'row');
      td.dataset.label = LABELS[c];
      td.className = `col-${c}`;
      cells[c] = td;
      tr.append(td);
    }
    const badge = document.createElement('span');
    const reason = document.createElement('span');
    reason.className = 'reason';
    cells.outcome.append(badge, reason);
    const e: RowEls = { tr, cells, badge, reason, outcome: null };
    this.els.set(id, e);
    return e;
  }

  private update(e: RowEls, row: SessionRow, now: number): void {
    const c = e.cells;
    setText(c.order, row.orderRef || row.id.slice(0, 8));
    const status = row.outcome ?? 'live';
    if (e.badge.dataset.status !== status) {
      e.badge.dataset.status = status;
      e.badge.className = `status status-${status}`;
      e.badge.textContent = row.outcome ? OUTCOME_LABEL[row.outcome] : 'Live';
      if (e.outcome === null && row.outcome !== null && e.tr.isConnected) {
        // Ended while on screen: a short highlight (CSS animation; reduced-motion users get none).
        e.tr.classList.remove('just-ended');
        void e.tr.offsetWidth;
        e.tr.classList.add('just-ended');
      }
      e.outcome = row.outcome;
    }
    setText(e.reason, row.outcome && row.outcome !== 'paid' ? reasonText(row.reason) : '');
    e.tr.dataset.status = status;
    setText(c.state, stateLabel(row.state));
    setText(c.field, row.field ? FIELD_LABEL[row.field] : '—');
    setText(c.agent, row.agentId ?? '—');
    setText(c.amount, money(row.amount, row.currency));
    setText(c.card, cardText(row.card));
    setText(c.dtmf, transportLabel(row.dtmfTransport));
    setText(c.instance, row.instanceId ?? '—');
    setText(c.elapsed, duration(elapsedMs(row, now)));
    setText(c.started, row.startedAt ? timeFmt.format(row.startedAt) : '—');
    if (c.started.title !== new Date(row.startedAt).toISOString()) c.started.title = new Date(row.startedAt).toISOString();
  }
}
