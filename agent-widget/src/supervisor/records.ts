import type { SessionRecord } from '../progress/types.js';

/**
 * Reads session records over REST (`GET /api/sessions/:id`, supervisor bearer token) for what the
 * capture events do not carry: the gateway instance and the DTMF transport. At most one request per
 * session in flight; asking again meanwhile queues exactly one more (so bursts of events coalesce).
 */
/** Sessions per `GET /api/sessions` page, and the most pages the dashboard reads at sign-in. */
export const PAGE = 500;
export const MAX_PAGES = 20;

export class RecordFetcher {
  private readonly busy = new Set<string>();
  private readonly again = new Set<string>();
  private stopped = false;

  constructor(
    private readonly token: string,
    private readonly onRecord: (record: SessionRecord) => void,
    private readonly fetchFn: typeof fetch = (...a) => fetch(...a),
  ) {}

  want(sessionId: string): void {
    if (this.stopped) return;
    if (this.busy.has(sessionId)) {
      this.again.add(sessionId);
      return;
    }
    this.busy.add(sessionId);
    void this.load(sessionId).finally(() => {
      this.busy.delete(sessionId);
      if (this.again.delete(sessionId)) this.want(sessionId);
    });
  }

  /**
   * Every session the store holds (`GET /api/sessions`, a page of `PAGE` at a time, following
   * `next`, at most `MAX_PAGES` pages): `ready` carries only the newest 50, the totals and
   * percentiles should cover them all. Null when the first page could not be read.
   */
  async all(): Promise<SessionRecord[] | null> {
    const out: SessionRecord[] = [];
    let before: string | null = null;
    for (let page = 0; page < MAX_PAGES; page++) {
      const q = `?limit=${PAGE}${before ? `&before=${encodeURIComponent(before)}` : ''}`;
      let body: { sessions?: SessionRecord[]; next?: string | null };
      try {
        const res = await this.fetchFn(`/api/sessions${q}`, { headers: { authorization: `Bearer ${this.token}`, accept: 'application/json' }, cache: 'no-store' });
        if (!res.ok) return page === 0 ? null : out;
        body = (await res.json()) as typeof body;
      } catch {
        return page === 0 ? null : out;
      }
      if (this.stopped || !Array.isArray(body.sessions)) return page === 0 ? null : out;
      out.push(...body.sessions);
      if (typeof body.next !== 'string') break;
      before = body.next;
    }
    return out;
  }

  stop(): void {
    this.stopped = true;
    this.again.clear();
  }

  private async load(sessionId: string): Promise<void> {
    try {
      const res = await this.fetchFn(`/api/sessions/${encodeURIComponent(sessionId)}`, {
        headers: { authorization: `Bearer ${this.token}`, accept: 'application/json' },
        cache: 'no-store',
      });
      if (!res.ok) return; // 404: gone or never stored; 401: the socket closes with 4401 and says so
      const record = (await res.json()) as SessionRecord;
      if (!this.stopped && record && record.id === sessionId) this.onRecord(record);
    } catch {
      // offline: the socket's reconnect brings the records back in `ready`
    }
  }
}
