/**
 * Header fields the gateway's user agent puts in its responses, built in one place so the layers
 * above sip/ never write header strings.
 */
import type { ViaParams } from '../dialog/dialog.js';

/**
 * The methods the gateway supports (RFC 3261 20.5: Allow lists the methods the UA generating the
 * message supports), for every Allow it sends: OPTIONS answers, 405s and dialog-creating 2xx.
 */
export const ALLOWED_METHODS = ['INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS', 'INFO', 'REFER', 'NOTIFY', 'REGISTER', 'UPDATE'] as const;

/** `Allow: INVITE, ACK, ...` (RFC 3261 20.5). */
export const ALLOW_HEADER = `Allow: ${ALLOWED_METHODS.join(', ')}`;

/** `Accept: application/sdp` (RFC 3261 20.1), in answers to OPTIONS. */
export const ACCEPT_SDP_HEADER = 'Accept: application/sdp';

/** `Supported:` with no option tags: the gateway requires and supports no extension (RFC 3261 20.37). */
export const SUPPORTED_NONE_HEADER = 'Supported: ';

/** `Recv-Info:` empty: no Info Package is supported (RFC 6086 5.2.3), with a 469. */
export const RECV_INFO_NONE_HEADER = 'Recv-Info: ';

/** The Contact of a request or response we send on a flow (RFC 3261 8.1.1.8). */
export const contactHeader = (via: ViaParams): string => `Contact: ${via.contact}`;

/**
 * A Warning with code 399 (miscellaneous, RFC 3261 20.43) naming what was wrong, as the gateway
 * refuses things: `Warning: 399 tonegate "..."`. The text is a quoted-string (RFC 3261 25.1:
 * `"` and `\` as quoted-pairs); line breaks become spaces.
 */
export const warningHeader = (text: string, agent = 'tonegate'): string =>
  `Warning: 399 ${agent} "${text.replace(/[\r\n]+/g, ' ').replace(/["\\]/g, (c) => `\\${c}`)}"`;
