/**
 * Serialises outgoing requests. Content-Length counts bytes (RFC 3261 20.14), never characters.
 */
export interface OutgoingBody {
  contentType: string;
  content: string;
}

export interface RequestSpec {
  method: string;
  ruri: string;
  /** Header lines in order, as [name, value]. Content-Type/Content-Length are added from `body`. */
  headers: ReadonlyArray<readonly [string, string]>;
  body?: OutgoingBody;
}

const FORBIDDEN = /[\r\n]/;

/** Throws on a header value holding CR/LF (header injection) — callers pass our own values only. */
export function serializeRequest(spec: RequestSpec): string {
  const lines = [`${spec.method} ${spec.ruri} SIP/2.0`];
  for (const [name, value] of spec.headers) {
    if (FORBIDDEN.test(name) || FORBIDDEN.test(value)) throw new Error(`header ${name} holds CR or LF`);
    lines.push(`${name}: ${value}`);
  }
  const content = spec.body?.content ?? '';
  if (spec.body) lines.push(`Content-Type: ${spec.body.contentType}`);
  lines.push(`Content-Length: ${Buffer.byteLength(content, 'utf8')}`);
  return lines.join('\r\n') + '\r\n\r\n' + content;
}

/** Removes the `tag` parameter from a From/To header value (outside the angle brackets). */
export function stripTag(headerValue: string): string {
  const gt = headerValue.lastIndexOf('>');
  const head = gt >= 0 ? headerValue.slice(0, gt + 1) : '';
  const tail = gt >= 0 ? headerValue.slice(gt + 1) : headerValue;
  return head + tail.replace(/;\s*tag\s*=\s*[^;\s]*/i, '');
}

/** The URI inside a name-addr (`"x" <sip:a@b>;p=1` -> `sip:a@b`), or the addr-spec before parameters. */
export function uriOf(headerValue: string): string {
  const lt = headerValue.indexOf('<');
  const gt = headerValue.indexOf('>', lt + 1);
  if (lt >= 0 && gt > lt) return headerValue.slice(lt + 1, gt).trim();
  return headerValue.split(';')[0]!.trim();
}
