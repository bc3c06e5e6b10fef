import { newBranch, newTag, initialCSeq } from './ids.js';
import { serializeRequest, stripTag, uriOf, type OutgoingBody } from './serialize.js';

/**
 * Dialog state (RFC 3261 12). tonegate is a B2BUA: on the caller's side it is the UAS of a dialog
 * ("A leg"), on the agent's side the UAC of another ("B leg").
 *
 *   created (early, 1xx with tag) --2xx--> confirmed --BYE--> terminated
 *          \----------- non-2xx final / CANCEL ---------------/
 */
export enum DialogState {
  Early = 'early',
  Confirmed = 'confirmed',
  Terminated = 'terminated',
}

export interface DialogInit {
  callId: string;
  /** Our From/To value including our tag. */
  localHeader: string;
  /** The peer's From/To value including its tag. */
  remoteHeader: string;
  localSeq: number;
  remoteSeq: number | undefined;
  /** Contact URI of the peer (RFC 3261 12.1.1 / 12.1.2). */
  remoteTarget: string;
  /** Route set in the order to place in Route headers. */
  routeSet: string[];
  /** Transport flow the dialog's requests go on (the connection or UDP address it was set up on). */
  flowId: string;
  state: DialogState;
}

export interface ViaParams {
  protocol: string;
  sentBy: string;
  contact: string;
}

/** Minimal view of an incoming message that dialogs need; satisfied by sip.js messages. */
export interface MessageView {
  callId: string;
  cseq: number;
  getHeader(name: string): string | undefined;
  getHeaders(name: string): string[];
}

export class Dialog {
  state: DialogState;
  readonly callId: string;
  readonly localHeader: string;
  remoteHeader: string;
  localSeq: number;
  remoteSeq: number | undefined;
  remoteTarget: string;
  routeSet: string[];
  flowId: string;

  constructor(init: DialogInit) {
    this.state = init.state;
    this.callId = init.callId;
    this.localHeader = init.localHeader;
    this.remoteHeader = init.remoteHeader;
    this.localSeq = init.localSeq;
    this.remoteSeq = init.remoteSeq;
    this.remoteTarget = init.remoteTarget;
    this.routeSet = init.routeSet;
    this.flowId = init.flowId;
  }

  /** UAS side (RFC 3261 12.1.1): from the request, with the tag we put in our responses' To. */
  static asUas(req: MessageView, localTag: string, flowId: string): Dialog {
    const to = req.getHeader('to') ?? '';
    return new Dialog({
      callId: req.callId,
      localHeader: `${stripTag(to)};tag=${localTag}`,
      remoteHeader: req.getHeader('from') ?? '',
      localSeq: initialCSeq(),
      remoteSeq: req.cseq,
      remoteTarget: uriOf(req.getHeader('contact') ?? uriOf(req.getHeader('from') ?? '')),
      routeSet: splitHeaderList(req.getHeaders('record-route')),
      flowId,
      state: DialogState.Confirmed,
    });
  }

  /** UAC side (RFC 3261 12.1.2): from our request's From/CSeq and the response that carries a To tag. */
  static asUac(localHeader: string, localSeq: number, res: MessageView, flowId: string, state: DialogState): Dialog {
    return new Dialog({
      callId: res.callId,
      localHeader,
      remoteHeader: res.getHeader('to') ?? '',
      localSeq,
      remoteSeq: undefined,
      remoteTarget: uriOf(res.getHeader('contact') ?? uriOf(res.getHeader('to') ?? '')),
      routeSet: splitHeaderList(res.getHeaders('record-route')).reverse(),
      flowId,
      state,
    });
  }

  /** Updates the remote target on a target refresh (RFC 3261 12.2.1.2 / 12.2.2). */
  refreshTarget(msg: MessageView): void {
    const c = msg.getHeader('contact');
    if (c) this.remoteTarget = uriOf(c);
  }

  /**
   * RFC 3261 12.2.2: a request in the dialog must have a CSeq higher than the last one;
   * lower is out of order (500). Returns false for an out-of-order request.
   */
  acceptRemoteCSeq(cseq: number, method: string): boolean {
    if (method === 'ACK' || method === 'CANCEL') return true;
    if (this.remoteSeq !== undefined && cseq <= this.remoteSeq) return false;
    this.remoteSeq = cseq;
    return true;
  }

  /**
   * Builds an in-dialog request (RFC 3261 12.2.1.1). ACK reuses the INVITE's CSeq number (13.2.2.4),
   * so pass `cseq` for it; every other method takes the next local sequence number.
   */
  buildRequest(
    method: string,
    via: ViaParams,
    opts: { body?: OutgoingBody; headers?: ReadonlyArray<readonly [string, string]>; cseq?: number; branch?: string } = {},
  ): { text: string; branch: string; cseq: number } {
    const cseq = opts.cseq ?? ++this.localSeq;
    const branch = opts.branch ?? newBranch();
    const headers: (readonly [string, string])[] = [
      ['Via', `SIP/2.0/${via.protocol} ${via.sentBy};branch=${branch};rport`],
      ['Max-Forwards', '70'],
      ...this.routeSet.map((r): [string, string] => ['Route', r]),
      ['From', this.localHeader],
      ['To', this.remoteHeader],
      ['Call-ID', this.callId],
      ['CSeq', `${cseq} ${method}`],
    ];
    if (method !== 'BYE' && method !== 'ACK' && method !== 'CANCEL') headers.push(['Contact', via.contact]);
    headers.push(...(opts.headers ?? []));
    // Strict routing (route set whose first entry lacks ;lr) is not supported: RFC 3261 16.12.1.1
    // loose routing is universal in practice; we still send to the remote target.
    const text = serializeRequest({ method, ruri: this.remoteTarget, headers, ...(opts.body ? { body: opts.body } : {}) });
    return { text, branch, cseq };
  }
}

/** Splits comma-separated header values (Record-Route) while respecting <> and quotes. */
export function splitHeaderList(values: string[]): string[] {
  const out: string[] = [];
  for (const v of values) {
    let depth = 0;
    let quoted = false;
    let start = 0;
    for (let i = 0; i < v.length; i++) {
      const ch = v[i];
      if (ch === '"' && v[i - 1] !== '\\') quoted = !quoted;
      else if (!quoted && ch === '<') depth++;
      else if (!quoted && ch === '>') depth--;
      else if (!quoted && depth === 0 && ch === ',') {
        out.push(v.slice(start, i).trim());
        start = i + 1;
      }
    }
    const last = v.slice(start).trim();
    if (last) out.push(last);
  }
  return out;
}

export { newTag };
