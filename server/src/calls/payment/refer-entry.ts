import type { Transaction } from '../../handoff/index.js';
import type { Bridge } from '../../media/plane.js';
import type { Call } from '../b2bua/call.js';
import type { ReferRequest } from '../b2bua/types.js';
import { BRIDGE_LEG } from '../media-anchor.js';
import type { CaptureRegistry } from './capture-registry.js';
import { agentKindOf, notifyReferrer } from './endings.js';
import { PaymentGate } from './gate.js';
import { hangupCauseOf } from '../media-watch.js';
import { PaymentRun, type RunDeps } from './run.js';
import { closingPrompts } from './closing.js';

/** The user part of a Refer-To (`<sip:pay@gw?...>` -> `pay`), or undefined. */
export function referToUser(referTo: string): string | undefined {
  const lt = referTo.indexOf('<');
  const gt = referTo.lastIndexOf('>');
  const uri = lt >= 0 && gt > lt ? referTo.slice(lt + 1, gt) : referTo.split(';')[0]!;
  return /^sips?:([^@?;>]+)@/i.exec(uri)?.[1];
}

/**
 * Inline mode (docs/architecture.md, "Two ways a payment starts", 1): the agent's in-dialog REFER
 * of a bridged call. Only the agent on the call may start a payment (a REFER on the customer's leg
 * is 403), one at a time (a second one is 491), and only to the payment URI; the
 * {@link PaymentGate} then reads the transaction per SIP profile (400 + Warning naming the field;
 * the call goes on untouched). A {@link PaymentRun} then runs on the call's own bridge, on the
 * customer leg: the bridge switches to `capture` (agent muted both ways, DTMF never reaches the
 * agent), NOTIFYs report to the agent, and afterwards customer and agent talk again. If the agent
 * left meanwhile, the customer hears the outcome and is then hung up on (call-state.ts).
 */
export class InlinePayments {
  /** Live inline runs by capture session id. */
  readonly live = new Map<string, PaymentRun>();

  constructor(
    private readonly deps: RunDeps,
    private readonly gate: PaymentGate,
    /** Where agent commands from the /events socket find the capture (shared with transfer mode). */
    private readonly captures: CaptureRegistry,
  ) {}

  onRefer(call: Call, r: ReferRequest): void {
    if (r.leg !== 'B') return r.reject(403, 'only the agent on the call may start a payment');
    if (call.capture) return r.reject(491, 'a payment is already running on this call');
    const user = referToUser(r.referTo);
    if (!user || !this.gate.isPayUser(user)) return r.reject(403, 'only transfers to the payment URI (sip:pay@gateway) are taken');
    // Load (calls/load/): refused before the handoff is read, the agent muted or the customer moved;
    // the call goes on untouched and the widget reads Retry-After (RFC 3261 21.5.4).
    const load = this.gate.admitLoad('refer');
    if ('refusal' in load) return r.reject(503, load.refusal.text, load.refusal.retryAfterS);
    const defer = r.defer();
    // Every answer releases the load reservation: the run, once started, counts itself (live).
    const decision = {
      accept: () => (defer.accept(), load.release()),
      reject: (status: number, warning?: string) => (defer.reject(status, warning), load.release()),
    };
    const log = this.deps.logger.child({ call: call.aReq.callId, agent: call.target.agentId, mode: 'inline' });
    this.gate
      .admit({ kind: 'refer', user, headers: (n) => r.xHeaders[n.toLowerCase()], referToHeaders: r.referToHeaders, flow: call.bFlow ?? call.aFlow, callerHeaders: (n) => call.aReq.getHeader(n) })
      .then((h) => {
        if (call.ended) return decision.reject(481);
        if (!h.ok && 'refusal' in h) {
          log.info({ reason: h.refusal.reason }, 'payment REFER refused');
          return decision.reject(h.refusal.status, h.refusal.text);
        }
        if (!h.ok) {
          log.info({ field: h.error.field, reason: h.error.reason, profile: h.profile }, 'payment REFER refused');
          return decision.reject(h.error.status, `${h.error.field}: ${h.error.reason}`);
        }
        if (h.txn.agentId !== undefined && h.txn.agentId !== call.target.agentId) {
          return decision.reject(403, 'X-Pay-Agent-Id: not the agent on this call');
        }
        if (call.capture) return decision.reject(491, 'a payment is already running on this call');
        const bridge = call.media?.bridge;
        if (!bridge) return decision.reject(500);
        decision.accept();
        this.startRun(call, r, bridge, { ...h.txn, agentId: call.target.agentId });
      })
      .catch((err: unknown) => {
        log.error({ err }, 'payment REFER handling failed');
        decision.reject(500);
      });
  }

  private startRun(call: Call, r: ReferRequest, bridge: Bridge, txn: Transaction): void {
    const log = this.deps.logger.child({ call: call.aReq.callId, mode: 'inline', agent: call.target.agentId });
    // The call's view of its payment: the agent leaving is only logged (the capture goes on).
    const handle = { onAgentGone: () => log.info('agent left during the capture; it goes on with the customer') };
    const released = (): void => {
      if (call.capture === handle) call.captureDone();
    };
    const run = new PaymentRun(this.deps, {
      bridge,
      customerLeg: BRIDGE_LEG.A.id,
      txn,
      ending: notifyReferrer({ notify: (s, reason, o) => r.notify(s, reason, o), agent: agentKindOf(call.bFlow?.id, call.target.contactUri), released, hangupCall: (why) => call.hangup(why) }),
      log,
      captures: this.captures,
      closing: closingPrompts({ entry: 'inline', returnTo: false }),
    });
    const id = run.session.id;
    this.live.set(id, run);
    call.capture = handle;
    const offEnded = call.events.on('ended', (reason) => run.kill('call ended', hangupCauseOf(reason)));
    void run.done.then(() => {
      offEnded();
      released();
      this.live.delete(id);
    });
    run.start();
  }
}
