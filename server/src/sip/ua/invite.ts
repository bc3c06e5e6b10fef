/**
 * The request factory for the one request the gateway sends outside a dialog: the INVITE of a
 * B2BUA's outgoing leg, and the CANCEL that goes with it (RFC 3261 8.1.1, 9.1). In-dialog requests
 * come from Dialog.buildRequest (sip/dialog/dialog.ts). The model is SIP.js's core: the layers
 * above ask for a request and never write Via/From/To/CSeq themselves.
 */
import type { ViaParams } from '../dialog/dialog.js';
import { initialCSeq, newBranch, newCallId, newTag } from '../dialog/ids.js';
import { serializeRequest, type OutgoingBody } from '../dialog/serialize.js';
import { ALLOWED_METHODS } from './headers.js';

export interface InviteSpec {
  /** The target: a registered Contact. */
  readonly ruri: string;
  /** Via and Contact for the flow the INVITE goes on (SipStack.via). */
  readonly via: ViaParams;
  /** Who it is from: the caller's user and display name, at the gateway's host. */
  readonly from: { readonly user: string | undefined; readonly displayName?: string | undefined };
  /** Who it is to: the user at the gateway's host (the agent's id). */
  readonly toUser: string;
  /** The incoming request's Max-Forwards, decremented (RFC 3261 16.6 step 3); default 70. */
  readonly maxForwards?: number;
  readonly body: OutgoingBody;
  /** Extension header fields after the standard ones (e.g. RFC 4028 Supported / Session-Expires / Min-SE). */
  readonly headers?: ReadonlyArray<readonly [string, string]>;
}

/** An INVITE as sent: what its dialog and its CANCEL need. */
export interface OutgoingInvite {
  readonly text: string;
  readonly ruri: string;
  readonly branch: string;
  readonly cseq: number;
  readonly callId: string;
  /** The From header value, with our tag. */
  readonly from: string;
  readonly fromTag: string;
  readonly to: string;
  readonly via: ViaParams;
}

const quoted = (s: string): string => `"${s.replace(/["\\\r\n]/g, '')}"`;

/** RFC 3261 8.1.1: a new INVITE outside any dialog (new Call-ID, From tag, CSeq and branch). */
export function newInvite(spec: InviteSpec): OutgoingInvite {
  const host = spec.via.sentBy;
  const fromTag = newTag();
  const display = spec.from.displayName;
  const from = `${display ? `${quoted(display)} ` : ''}<sip:${encodeURIComponent(spec.from.user ?? 'anonymous')}@${host}>;tag=${fromTag}`;
  const to = `<sip:${encodeURIComponent(spec.toUser)}@${host}>`;
  const callId = newCallId(host.replace(/:\d+$/, ''));
  const cseq = initialCSeq();
  const branch = newBranch();
  const text = serializeRequest({
    method: 'INVITE',
    ruri: spec.ruri,
    headers: [
      ['Via', `SIP/2.0/${spec.via.protocol} ${spec.via.sentBy};branch=${branch};rport`],
      ['Max-Forwards', String(Math.max(0, spec.maxForwards ?? 70))],
      ['From', from],
      ['To', to],
      ['Call-ID', callId],
      ['CSeq', `${cseq} INVITE`],
      ['Contact', spec.via.contact],
      ['Allow', ALLOWED_METHODS.join(', ')],
      ...(spec.headers ?? []),
    ],
    body: spec.body,
  });
  return { text, ruri: spec.ruri, branch, cseq, callId, from, fromTag, to, via: spec.via };
}

/** RFC 3261 9.1: CANCEL has the INVITE's Request-URI, Call-ID, To, From, CSeq number and top Via. */
export function cancelOf(inv: OutgoingInvite): string {
  return serializeRequest({
    method: 'CANCEL',
    ruri: inv.ruri,
    headers: [
      ['Via', `SIP/2.0/${inv.via.protocol} ${inv.via.sentBy};branch=${inv.branch};rport`],
      ['Max-Forwards', '70'],
      ['From', inv.from],
      ['To', inv.to],
      ['Call-ID', inv.callId],
      ['CSeq', `${inv.cseq} CANCEL`],
    ],
  });
}
