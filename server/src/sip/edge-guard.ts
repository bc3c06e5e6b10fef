import { KeyedRateLimit } from '../security/rate-limit.js';
import type { RequestContext, SipStack, SipUser } from './stack.js';
import type { IncomingRequestMessage, IncomingResponseMessage, ServerTransaction } from './transaction/index.js';
import type { SipFlow } from './transport/types.js';

/**
 * Per-source limits on new INVITEs and REGISTERs (docs/security.md, "Limits at the edge"): a
 * token bucket per source address in front of the transaction user. Over the limit, the request is
 * answered `503` with `Retry-After` (RFC 3261 21.5.4, 20.33) before the TU sees it, so a flood
 * from one source allocates nothing while other sources go on. In-dialog requests, ACK and CANCEL
 * are not limited (they belong to calls already admitted).
 */
export interface EdgeRates {
  readonly invite: { readonly count: number; readonly periodMs: number };
  readonly register: { readonly count: number; readonly periodMs: number };
}

export class SipEdgeGuard implements SipUser {
  readonly #limits: Record<'INVITE' | 'REGISTER', KeyedRateLimit>;

  constructor(
    private readonly inner: SipUser,
    private readonly stack: Pick<SipStack, 'respond'>,
    rates: EdgeRates,
    now: () => number,
    private readonly onRefused: (reason: 'invite-rate' | 'register-rate', source: string) => void = () => {},
  ) {
    const bucket = (r: EdgeRates['invite']) => new KeyedRateLimit({ ratePerS: (r.count * 1000) / r.periodMs, burst: r.count, now });
    this.#limits = { INVITE: bucket(rates.invite), REGISTER: bucket(rates.register) };
  }

  onRequest(req: IncomingRequestMessage, txn: ServerTransaction, ctx: RequestContext): void {
    const method = req.method === 'INVITE' || req.method === 'REGISTER' ? req.method : undefined;
    if (method && !(method === 'INVITE' && req.toTag)) {
      const source = ctx.source.remote.address;
      const limit = this.#limits[method];
      if (!limit.take(source)) {
        this.onRefused(method === 'INVITE' ? 'invite-rate' : 'register-rate', source);
        const after = Math.max(1, Math.ceil(limit.retryAfterMs(source) / 1000));
        return void this.stack.respond(txn, 503, { headers: [`Retry-After: ${after}`] });
      }
    }
    this.inner.onRequest(req, txn, ctx);
  }

  onAck(ack: IncomingRequestMessage, flow: SipFlow): void {
    this.inner.onAck(ack, flow);
  }

  onCancel(target: ServerTransaction): void {
    this.inner.onCancel(target);
  }

  onUnmatched2xx(res: IncomingResponseMessage, flow: SipFlow): void {
    this.inner.onUnmatched2xx(res, flow);
  }

  onFlowClosed(flow: SipFlow): void {
    this.inner.onFlowClosed(flow);
  }
}
