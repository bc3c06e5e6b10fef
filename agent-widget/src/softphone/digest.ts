import { DigestAuthentication } from 'sip.js/lib/core/messages/digest-authentication.js';
import { Md5 } from 'sip.js/lib/core/messages/md5.js';
import type { OutgoingRequestMessage } from 'sip.js/lib/core/messages/outgoing-request-message.js';
import type { LoggerFactory } from 'sip.js/lib/core/log/logger-factory.js';
import { sha256Hex } from './sha256.js';

/**
 * HTTP Digest credentials for sip.js with SHA-256 as well as MD5 (RFC 8760 2, RFC 7616 3.4.1).
 * sip.js 0.21 answers only MD5 challenges and reads only the first WWW-Authenticate header, while
 * the gateway offers SHA-256 first (config SIP_DIGEST_ALGORITHMS, default `SHA-256,MD5`), so the
 * stock credentials would give up. Installed through `userAgentCore.configuration.authenticationFactory`.
 */
export type DigestAlgorithm = 'MD5' | 'SHA-256';

/** The challenge fields sip.js's grammar parses out of WWW-Authenticate / Proxy-Authenticate. */
export interface DigestChallenge {
  realm?: string;
  nonce?: string;
  opaque?: string;
  algorithm?: string;
  qop?: string[] | string;
  stale?: boolean;
}

const hashers: Readonly<Record<DigestAlgorithm, (s: string) => string>> = {
  MD5: (s) => Md5.hashStr(s),
  'SHA-256': sha256Hex,
};

/** The `response` value of RFC 7616 3.4.1 for qop=auth (or RFC 2069 without qop). Pure, for tests. */
export function digestResponse(p: {
  algorithm: DigestAlgorithm; username: string; realm: string; password: string; method: string; uri: string;
  nonce: string; qop?: 'auth'; nc?: string; cnonce?: string;
}): string {
  const H = hashers[p.algorithm];
  const ha1 = H(`${p.username}:${p.realm}:${p.password}`);
  const ha2 = H(`${p.method}:${p.uri}`);
  return p.qop ? H(`${ha1}:${p.nonce}:${p.nc ?? ''}:${p.cnonce ?? ''}:${p.qop}:${ha2}`) : H(`${ha1}:${p.nonce}:${ha2}`);
}

function randomToken(n: number): string {
  const bytes = new Uint8Array(n);
  crypto.getRandomValues(bytes);
  return [...bytes].map((b) => (b % 36).toString(36)).join('');
}

export class DigestCredentials extends DigestAuthentication {
  #header = '';
  #nc = 0;

  constructor(loggerFactory: LoggerFactory, private readonly user: string, private readonly secret: string) {
    super(loggerFactory, undefined, user, secret);
  }

  override authenticate(request: OutgoingRequestMessage, challenge: DigestChallenge): boolean {
    const algorithm = (challenge.algorithm ?? 'MD5').toUpperCase();
    if (algorithm !== 'MD5' && algorithm !== 'SHA-256') return false;
    if (!challenge.realm || !challenge.nonce) return false;
    const qops = Array.isArray(challenge.qop) ? challenge.qop : challenge.qop ? [challenge.qop] : [];
    if (qops.length && !qops.includes('auth')) return false; // auth-int would need the body hashed: not offered by the gateway
    const uri = request.ruri.toString();
    const fields = [`username="${this.user}"`, `realm="${challenge.realm}"`, `nonce="${challenge.nonce}"`, `uri="${uri}"`];
    if (qops.length) {
      this.#nc += 1;
      const nc = this.#nc.toString(16).padStart(8, '0');
      const cnonce = randomToken(16);
      const response = digestResponse({ algorithm, username: this.user, realm: challenge.realm, password: this.secret, method: request.method, uri, nonce: challenge.nonce, qop: 'auth', nc, cnonce });
      fields.push(`response="${response}"`, 'qop=auth', `cnonce="${cnonce}"`, `nc=${nc}`);
    } else {
      fields.push(`response="${digestResponse({ algorithm, username: this.user, realm: challenge.realm, password: this.secret, method: request.method, uri, nonce: challenge.nonce })}"`);
    }
    if (challenge.opaque) fields.push(`opaque="${challenge.opaque}"`);
    fields.push(`algorithm=${algorithm}`);
    this.#header = `Digest ${fields.join(', ')}`;
    return true;
  }

  override toString(): string {
    if (!this.#header) throw new Error('no challenge answered yet');
    return this.#header;
  }
}
