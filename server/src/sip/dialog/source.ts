import { uriDestination } from '../stack.js';
import { normalizeAddress, parseUdpFlowId } from '../transport/endpoint.js';
import type { SipFlow } from '../transport/types.js';
import type { Dialog } from './dialog.js';

/**
 * Who may send requests inside a dialog (docs/security.md, "In-dialog requests"). RFC 3261 matches
 * an in-dialog request by Call-ID and tags only (12.2.2), which anyone who saw one message of the
 * dialog can copy; a spoofed BYE, INFO (digits!), REFER or re-INVITE must not act on a payment call.
 * So a request is accepted only from where the leg's peer is:
 *  - a dialog set up over a connection (TCP, TLS, WS): on that very connection (the flow id);
 *  - a dialog over UDP: from the IP address of the peer it was set up with, of its Contact (remote
 *    target, RFC 3261 12.1) or of a hop of its route set (a Record-Route proxy relays the peer's
 *    requests, RFC 3261 16.12). Ports are not compared: a UA may send from another port than its
 *    Contact's, and a UDP port is no harder to forge than the address. A connection from one of those
 *    addresses is accepted too (RFC 3261 18.1.1: a UDP UA sends large requests over TCP).
 * The caller answers any other source 403 (RFC 3261 21.4.4: understood, refused, not to be
 * repeated) and changes nothing. Not 481: the dialog exists (12.2.2 keeps 481 for no match).
 */
export type SourceVerdict = { ok: true } | { ok: false; reason: string };

type DialogView = Pick<Dialog, 'flowId' | 'remoteTarget' | 'routeSet'>;
type SourceView = Pick<SipFlow, 'id' | 'protocol' | 'remote'>;

const CONNECTION = /^(tcp|tls|ws):/;

/** The IP addresses a UDP dialog's requests may come from (see above). */
export function dialogPeerAddresses(dialog: DialogView): Set<string> {
  const out = new Set<string>();
  const own = parseUdpFlowId(dialog.flowId);
  if (own) out.add(normalizeAddress(own.address));
  const target = uriDestination(dialog.remoteTarget);
  if (target) out.add(normalizeAddress(target.endpoint.address));
  for (const route of dialog.routeSet) {
    const uri = /<([^>]+)>/.exec(route)?.[1] ?? route;
    const hop = uriDestination(uri);
    if (hop) out.add(normalizeAddress(hop.endpoint.address));
  }
  return out;
}

export function inDialogSourceVerdict(dialog: DialogView, source: SourceView): SourceVerdict {
  if (CONNECTION.test(dialog.flowId)) {
    if (source.id === dialog.flowId) return { ok: true };
    return { ok: false, reason: `arrived on ${source.id}, the dialog runs on ${dialog.flowId}` };
  }
  const from = normalizeAddress(source.remote.address);
  if (dialogPeerAddresses(dialog).has(from)) return { ok: true };
  return { ok: false, reason: `arrived from ${from} (${source.protocol}), not from the dialog's peer or route set` };
}
