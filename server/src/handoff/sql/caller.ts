import { normaliseNumber, type Numbering } from '../../config/number-plan.js';

/** Where the caller's number was read, for the Warning of a refusal. */
export type CallerField = 'P-Asserted-Identity' | 'From';

/**
 * The user part of a SIP/SIPS URI or the number of a TEL URI (RFC 3261 19.1.1, RFC 3966), from a
 * name-addr (`"Name" <sip:+9198...@host;user=phone>;tag=x`) or an addr-spec; %-decoded.
 */
export function uriUser(value: string): string | undefined {
  const angle = /<([^>]*)>/.exec(value);
  const uri = (angle ? angle[1]! : value.split(';')[0]!).trim();
  const m = /^(sips?|tel):([^?]*)/i.exec(uri);
  if (!m) return undefined;
  const rest = m[2]!;
  let user: string;
  if (m[1]!.toLowerCase() === 'tel') user = rest.split(';')[0]!;
  else {
    const at = rest.lastIndexOf('@');
    if (at <= 0) return undefined;
    user = rest.slice(0, at).split(';')[0]!.split(':')[0]!;
  }
  try {
    return decodeURIComponent(user);
  } catch {
    return undefined;
  }
}

/** The entries of a header value that may list several (`<sip:...>, <tel:...>`, RFC 3325 9.1). */
function entries(value: string): string[] {
  const angled = value.match(/<[^>]*>/g);
  return angled ?? [value];
}

/**
 * The caller's number in E.164, from P-Asserted-Identity (RFC 3325 9.1: set by a trusted network)
 * when the request has one, else From; a national number (`098...`, `9198...`) is normalised with
 * the number plan's country code and national prefix, like a DID.
 */
export function callerNumber(
  headers: (name: string) => string | undefined, numbering: Numbering,
): { ok: true; number: string; field: CallerField } | { ok: false; field: CallerField; reason: string } {
  const pai = headers('P-Asserted-Identity');
  const field: CallerField = pai !== undefined ? 'P-Asserted-Identity' : 'From';
  const value = pai ?? headers('From');
  if (value === undefined) return { ok: false, field, reason: 'missing' };
  for (const e of entries(value)) {
    const user = uriUser(e);
    const number = user !== undefined ? normaliseNumber(user, numbering) : undefined;
    if (number) return { ok: true, number, field };
  }
  return { ok: false, field, reason: 'no caller number (E.164, or national form) in it' };
}
