import type { SessionRecord } from '../progress/types.js';

/**
 * Reads session records over REST (`GET /api/sessions/:id`, supervisor bearer token) for what the
 * capture events do not carry: the gateway instance and the DTMF transport. At most one request per
 * session in flight; asking again meanwhile queues exactly one more (so bursts of events coalesce).
 */
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
   * Every session the store holds (`GET /api/sessions`): `ready` carries only the newest 50, the
   * totals and percentiles should cover them all. Null when it could not be read.
   */
  async all(): Promise<SessionRecord[] | null> {
    try {
      const res = await this.fetchFn('/api/sessions', { headers: { authorization: `Bearer ${this.token}`, accept: 'application/json' }, cache: 'no-store' });
      if (!res.ok) return null;
      const body = (await res.json()) as { sessions?: SessionRecord[] };
      return this.stopped || !Array.isArray(body.sessions) ? null : body.sessions;
    } catch {
      return null;
    }
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
