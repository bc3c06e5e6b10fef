/**
 * Pieces of SIPp scenario XML that the scenario builders share (the tests' and e2e's payment
 * scenarios, the load harness's, the trust-boundary ones): the SDP offer, the customer's INVITE up
 * to its ACK, in-dialog requests from the customer, and stateless answers.
 */

/** A PCMU (0) + telephone-event (101) SDP body, indented for a CDATA block. */
export function sdpOffer(o: { origin?: string; fmtp?: boolean; ptime?: boolean } = {}): string {
  return [
    'v=0',
    `o=${o.origin ?? 'customer'} 1 1 IN IP[local_ip_type] [local_ip]`,
    's=-',
    'c=IN IP[media_ip_type] [media_ip]',
    't=0 0',
    'm=audio [media_port] RTP/AVP 0 101',
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:101 telephone-event/8000',
    ...(o.fmtp === false ? [] : ['a=fmtp:101 0-15']),
    ...(o.ptime ? ['a=ptime:20'] : []),
  ]
    .map((l) => `      ${l}`)
    .join('\n');
}

/** Header lines, indented for a CDATA block, each ending in a newline. */
export const headerLines = (headers: Record<string, string>): string =>
  Object.entries(headers)
    .map(([k, v]) => `      ${k}: ${v}\n`)
    .join('');

/** SIPp's stateless answer to the request it just received (its Via, From, To, Call-ID, CSeq). */
export function answer(status: number, reason: string, extra: string[] = []): string {
  return `  <send>
    <![CDATA[
      SIP/2.0 ${status} ${reason}
${extra.map((h) => `      ${h}\n`).join('')}      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>`;
}

/**
 * A request of the customer inside the dialog its INVITE set up (To with the gateway's tag, the
 * Record-Route set). `branch`: the Via branch (a new one by default); `attrs`: attributes of the
 * `<send>` (e.g. ` retrans="500" start_txn="bye"`); `headers`: extra header lines; `body` lines.
 */
export function customerRequest(o: { method: string; user: string; cseq: number; branch?: string; attrs?: string; headers?: Record<string, string>; body?: string[] }): string {
  const body = o.body?.length ? `${o.body.map((l) => `      ${l}\n`).join('')}` : '';
  return `  <send${o.attrs ?? ''}>
    <![CDATA[
      ${o.method} [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=${o.branch ?? '[branch]'};rport
      From: <sip:customer@[local_ip]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:${o.user}@[remote_ip]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: ${o.cseq} ${o.method}
      [routes]
      Max-Forwards: 70
${headerLines(o.headers ?? {})}      Content-Length: ${body ? '[len]' : '0'}

${body}    ]]>
  </send>`;
}

/**
 * The customer's INVITE to sip:<user>@gateway with `headers` and a PCMU + telephone-event offer,
 * the provisional responses and the 200, then the ACK (after `ackDelayMs`, if given). `txn`: match
 * the responses to the INVITE transaction (SIPp start_txn/response_txn: a retransmitted 200 is then
 * never taken for the answer to a later request), response time 1 from INVITE to 200, and the ACK
 * on a branch of its own, as the load harness does.
 */
export function customerInvite(o: { user: string; headers: Record<string, string>; txn?: boolean; ackDelayMs?: number }): string {
  const rt = o.txn ? ' response_txn="invite"' : '';
  return `  <send retrans="500"${o.txn ? ' start_rtd="1" start_txn="invite"' : ''}>
    <![CDATA[
      INVITE sip:${o.user}@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
      From: <sip:customer@[local_ip]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:${o.user}@[remote_ip]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:customer@[local_ip]:[local_port];transport=[transport]>
      Max-Forwards: 70
${headerLines(o.headers)}      Content-Type: application/sdp
      Content-Length: [len]

${sdpOffer({ ptime: true })}
    ]]>
  </send>
  <recv response="100" optional="true"${rt} />
  <recv response="180" optional="true"${rt} />
  <recv response="183" optional="true"${rt} />
  <recv response="200"${o.txn ? ' rtd="1"' : ''} rrs="true"${rt} />
${o.ackDelayMs ? `  <pause milliseconds="${o.ackDelayMs}" />\n` : ''}${customerRequest({
    method: 'ACK',
    user: o.user,
    cseq: 1,
    ...(o.txn ? { branch: 'z9hG4bK-[pid]-ack-[call_number]', attrs: ' ack_txn="invite"' } : {}),
  })}`;
}
