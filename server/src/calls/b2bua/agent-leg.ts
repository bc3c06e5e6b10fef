import { Dialog, DialogState } from '../../sip/dialog/dialog.js';
import type { IncomingRequestMessage, IncomingResponseMessage } from '../../sip/transaction/index.js';
import type { SipFlow } from '../../sip/transport/types.js';
import { cancelOf, newInvite, type OutgoingInvite } from '../../sip/ua/invite.js';
import type { CallDeps } from './types.js';

/** What the agent leg reports to its call. */
export interface AgentLegHost {
  /** A provisional (not 100) or a 2xx: the call's state machine takes it from here. */
  onProvisional(res: IncomingResponseMessage): void;
  onAnswered(res: IncomingResponseMessage, dialogIsNew: boolean): void;
  onRejected(res: IncomingResponseMessage): void;
  /** Timer B (408) or a transport error (480): the agent never answered. */
  onFailed(status: number, why: string): void;
}

/**
 * The B2BUA's outgoing leg to the agent (we are its UAC, RFC 3261 13.2): the INVITE from the
 * request factory, early and confirmed dialogs from its responses, CANCEL (RFC 3261 9.1: only
 * once a provisional came), and the ACK for the 2xx (13.2.2.4: resent identically for each
 * retransmitted 2xx). The non-2xx ACK is the client transaction's (17.1.1.3).
 */
export class AgentLeg {
  invite: OutgoingInvite | undefined;
  dialog: Dialog | undefined;
  flow: SipFlow | undefined;
  private provisionalSeen = false;
  private cancelPending = false;
  private ack: string | undefined;

  constructor(
    private readonly deps: Pick<CallDeps, 'stack' | 'logger'>,
    private readonly host: AgentLegHost,
    private readonly guard: (fn: () => void) => void,
  ) {}

  /** The Call-ID and our tag of the agent's dialog (how in-dialog requests find the call). */
  get dialogKey(): { callId: string; tag: string } | undefined {
    return this.invite && { callId: this.invite.callId, tag: this.invite.fromTag };
  }

  /** Sends the INVITE with `sdp` to the agent's Contact, on behalf of the caller's request. */
  send(flow: SipFlow, callerReq: IncomingRequestMessage, target: { agentId: string; contactUri: string }, sdp: string, headers: [string, string][] = []): void {
    this.flow = flow;
    const mf = callerReq.getHeader('max-forwards');
    const inv = (this.invite = newInvite({
      ruri: target.contactUri,
      via: this.deps.stack.via(flow, target.contactUri),
      from: { user: callerReq.from.uri.user, displayName: callerReq.from.displayName },
      toUser: target.agentId,
      maxForwards: (mf ? Number(mf) : 70) - 1,
      body: { contentType: 'application/sdp', content: sdp },
      headers,
    }));
    this.deps.stack.sendRequest({
      request: inv.text,
      method: 'INVITE',
      branch: inv.branch,
      flow,
      user: {
        onResponse: (res) => this.guard(() => this.onResponse(res, flow)),
        onTimeout: () => this.guard(() => this.host.onFailed(408, 'agent did not answer the INVITE')),
        onTransportError: () => this.guard(() => this.host.onFailed(480, 'agent transport failed')),
      },
    });
  }

  private onResponse(res: IncomingResponseMessage, flow: SipFlow): void {
    const inv = this.invite!;
    const code = res.statusCode ?? 0;
    if (code < 200) {
      this.provisionalSeen = true;
      if (this.cancelPending) this.sendCancel();
      if (code === 100) return;
      if (res.toTag && !this.dialog) this.dialog = Dialog.asUac(inv.from, inv.cseq, res, flow.id, DialogState.Early);
      return this.host.onProvisional(res);
    }
    if (code < 300) {
      const isNew = !this.dialog || this.dialog.state === DialogState.Early || this.dialog.remoteHeader !== res.getHeader('to');
      if (isNew) this.dialog = Dialog.asUac(inv.from, inv.cseq, res, flow.id, DialogState.Confirmed);
      return this.host.onAnswered(res, isNew);
    }
    this.host.onRejected(res);
  }

  /** RFC 3261 9.1: CANCEL only once a provisional response came; until then it waits. */
  cancel(): void {
    if (this.provisionalSeen) this.sendCancel();
    else this.cancelPending = true;
  }

  private sendCancel(): void {
    this.cancelPending = false;
    const inv = this.invite;
    if (!inv || !this.flow) return;
    this.deps.stack.sendRequest({
      request: cancelOf(inv),
      method: 'CANCEL',
      branch: inv.branch,
      flow: this.flow,
      user: { onResponse: () => {}, onTimeout: () => {}, onTransportError: () => {} },
    });
  }

  /** ACK for the agent's 2xx (RFC 3261 13.2.2.4): a new branch, resent identically for retransmitted 2xx. */
  ackAnswer(): void {
    if (!this.dialog || !this.flow) return;
    this.ack ??= this.dialog.buildRequest('ACK', this.deps.stack.via(this.flow), { cseq: this.invite!.cseq }).text;
    if (!this.flow.send(this.ack)) this.deps.logger.warn('ACK to agent could not be sent');
  }

  /** The agent left (its BYE during a capture): its dialog is gone. */
  forgetDialog(): void {
    this.dialog = undefined;
  }
}
