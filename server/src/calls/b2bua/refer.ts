import type { IncomingRequestMessage } from '../../sip/transaction/index.js';

/** Limits on what a REFER may carry before we hand it up (bounded memory, clear refusals). */
const MAX_REFER_TO = 4096;
const MAX_X_HEADERS = 32;
const MAX_X_VALUE = 512;

export interface ParsedRefer {
  referTo: string;
  referToHeaders: Record<string, string>;
  xHeaders: Record<string, string>;
}

/**
 * Reads a REFER (RFC 3515 2.1): exactly one Refer-To, its URI headers %-decoded
 * (RFC 3261 19.1.1: `?name=value&...` inside the URI), and every X-* header of the request.
 */
export function parseRefer(req: IncomingRequestMessage): ParsedRefer | { error: string } {
  const referTos = req.getHeaders('refer-to').concat(req.getHeaders('r'));
  // RFC 3515 2.4.1: more than one Refer-To is a 400. sip.js keeps only the last one (its parser
  // sets rather than adds the field), so count the field lines as received.
  const lines = (req.data ?? '').split(/\r?\n\r?\n/, 1)[0]!.match(/^(?:refer-to|r)[ \t]*:/gim)?.length ?? 0;
  if (referTos.length !== 1 || lines > 1) return { error: referTos.length ? 'more than one Refer-To' : 'Refer-To missing' };
  const referTo = referTos[0]!.trim();
  if (referTo.length > MAX_REFER_TO) return { error: 'Refer-To too long' };
  const lt = referTo.indexOf('<');
  const gt = referTo.lastIndexOf('>');
  const uri = lt >= 0 && gt > lt ? referTo.slice(lt + 1, gt) : referTo.split(';')[0]!;
  if (!/^sips?:/i.test(uri)) return { error: 'Refer-To is not a SIP URI' };
  const referToHeaders: Record<string, string> = {};
  const q = uri.indexOf('?');
  if (q >= 0) {
    for (const pair of uri.slice(q + 1).split('&')) {
      if (!pair) continue;
      const eq = pair.indexOf('=');
      const name = eq >= 0 ? pair.slice(0, eq) : pair;
      const value = eq >= 0 ? pair.slice(eq + 1) : '';
      let decoded: string;
      let decodedName: string;
      try {
        // RFC 3261 25.1: `+` is a literal character in hname/hvalue (hnv-unreserved), not a space
        // (an E.164 X-Pay-Customer-Mobile). A bad escape in the name must not throw either.
        decoded = decodeURIComponent(value);
        decodedName = decodeURIComponent(name);
      } catch {
        return { error: `Refer-To header ${name.slice(0, 40)} is not valid %-encoding` };
      }
      if (/[\r\n\0]/.test(decodedName + decoded)) return { error: `Refer-To header ${name.slice(0, 40)} holds control characters` };
      referToHeaders[decodedName] = decoded;
    }
  }
  const xHeaders: Record<string, string> = {};
  let count = 0;
  for (const [name, values] of Object.entries(req.headers)) {
    if (!/^x-/i.test(name)) continue;
    if (++count > MAX_X_HEADERS) return { error: 'too many X- headers' };
    const v = values[0]?.raw ?? '';
    if (values.length > 1) return { error: `${canonical(name)} given more than once` };
    if (v.length > MAX_X_VALUE) return { error: `${canonical(name)} too long` };
    xHeaders[name.toLowerCase()] = v.trim();
  }
  return { referTo, referToHeaders, xHeaders };
}

const canonical = (n: string): string => n.replace(/(^|-)([a-z])/g, (_m, d: string, c: string) => d + c.toUpperCase());
