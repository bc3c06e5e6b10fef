/**
 * DTMF carried in SIP INFO bodies (legacy RFC 6086 usage, no Info-Package):
 *  - application/dtmf-relay:  "Signal=5\r\nDuration=160\r\n" (Cisco/SIPp/Asterisk style)
 *  - application/dtmf:        "5"
 * Signal values: 0-9 * # A-D; some send 10 for * and 11 for # (RFC 4733 event codes).
 */
export type InfoDigitResult = { digit: string; durationMs: number | undefined } | { error: string; status: 400 | 415 };

const EVENT_CODE: Record<string, string> = { '10': '*', '11': '#', '12': 'A', '13': 'B', '14': 'C', '15': 'D' };
const MAX_BODY = 256;

export function parseInfoDigit(contentType: string, body: string): InfoDigitResult {
  if (body.length > MAX_BODY) return { error: 'DTMF body too long', status: 400 };
  if (contentType === 'application/dtmf') return toDigit(body.trim(), undefined);
  if (contentType !== 'application/dtmf-relay') return { error: 'Unsupported Media Type', status: 415 };
  let signal: string | undefined;
  let duration: number | undefined;
  for (const line of body.split(/\r?\n/)) {
    const m = /^\s*([A-Za-z-]+)\s*=\s*(\S*)\s*$/.exec(line);
    if (!m) continue;
    const key = m[1]!.toLowerCase();
    if (key === 'signal') signal = m[2];
    else if (key === 'duration' && /^\d{1,6}$/.test(m[2]!)) duration = Number(m[2]);
  }
  if (signal === undefined) return { error: 'dtmf-relay body without Signal', status: 400 };
  return toDigit(signal, duration);
}

function toDigit(v: string, durationMs: number | undefined): InfoDigitResult {
  const d = EVENT_CODE[v] ?? v.toUpperCase();
  if (!/^[0-9*#A-D]$/.test(d)) return { error: `not a DTMF signal: ${JSON.stringify(v.slice(0, 8))}`, status: 400 };
  return { digit: d, durationMs };
}

/**
 * Drop the INFO's text once its digit is read and answered: the body (and the raw message that
 * holds it) is a keyed card digit. JS strings cannot be zeroed, so no reference is kept for longer
 * than the answer (docs/security.md).
 */
export function forgetInfoBody(req: { body: string; data: string }): void {
  req.body = '';
  req.data = '';
}
