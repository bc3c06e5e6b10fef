/**
 * How the gateway reaches the payment provider, from the deployment's settings (docs/security.md):
 * credentials (`PAYMENT_API_KEY` as X-API-Key, `PAYMENT_API_BEARER` as a Bearer token, each also as
 * `NAME_FILE`), TLS: an optional client certificate for mutual TLS (`PAYMENT_TLS_CERT_FILE` +
 * `PAYMENT_TLS_KEY_FILE`, both or neither) and, independently of it, `PAYMENT_TLS_CA_FILE` for a
 * provider whose server certificate comes from a private CA (it replaces the system CAs for the
 * provider: ./keepalive-fetch.ts), and the card encryption: the profile's `cardEncryption`, with the key
 * pinned by `PAYMENT_CARD_KEY_FILE` (the provider's PEM public key) or `PAYMENT_CARD_KEY_SHA256`
 * (the fingerprint of the key the provider publishes at GET /v1/keys/card).
 *
 * Encryption is on when the profile says `provider-key` or when either pin is configured (a pinned
 * key is never ignored). Bad settings fail at start-up, naming the variable.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { cardKeyFingerprint, normaliseFingerprint } from '../security/card-crypto.js';
import { keepAliveFetch, type ProviderTls } from './keepalive-fetch.js';
import type { FetchFn } from './http.js';
import type { CardEncryption } from './payment-client.js';

export interface ProviderAccessSettings {
  PAYMENT_API_KEY?: string | undefined;
  PAYMENT_API_KEY_FILE?: string | undefined;
  PAYMENT_API_BEARER?: string | undefined;
  PAYMENT_API_BEARER_FILE?: string | undefined;
  PAYMENT_TLS_CERT_FILE?: string | undefined;
  PAYMENT_TLS_KEY_FILE?: string | undefined;
  PAYMENT_TLS_CA_FILE?: string | undefined;
  PAYMENT_CARD_KEY_FILE?: string | undefined;
  PAYMENT_CARD_KEY_SHA256?: string | undefined;
}

export interface ProviderAccess {
  apiKeyHeader?: string;
  bearer?: string;
  /** fetch through a keep-alive agent, with the provider's CA and the client certificate when configured. */
  fetch: FetchFn;
  /** Closes the agent's pooled connections (gateway close). */
  close(): void;
  cardEncryption: CardEncryption;
}

export class ProviderSettingsError extends Error {
  constructor(readonly variable: string, why: string) {
    super(`${variable}: ${why}`);
    this.name = 'ProviderSettingsError';
  }
}

type Read = (path: string) => string;
const defaultRead: Read = (p) => readFileSync(p, 'utf8');

function secret(s: ProviderAccessSettings, name: 'PAYMENT_API_KEY' | 'PAYMENT_API_BEARER', read: Read): string | undefined {
  const direct = s[name];
  const file = s[`${name}_FILE`];
  if (direct && file) throw new ProviderSettingsError(name, `set ${name} or ${name}_FILE, not both`);
  if (!file) return direct || undefined;
  let v: string;
  try {
    v = read(file).trim();
  } catch (err) {
    throw new ProviderSettingsError(`${name}_FILE`, `cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  if (!v || /[\r\n]/.test(v)) throw new ProviderSettingsError(`${name}_FILE`, `${file} must hold one non-empty line`);
  return v;
}

function file(variable: string, path: string, read: Read): string {
  try {
    return read(path);
  } catch (err) {
    throw new ProviderSettingsError(variable, `cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

/** The CA file, refused at start-up unless it holds a PEM certificate (Node would silently trust nothing). */
function caBundle(path: string, read: Read): string {
  const pem = file('PAYMENT_TLS_CA_FILE', path, read);
  try {
    new X509Certificate(pem);
  } catch {
    throw new ProviderSettingsError('PAYMENT_TLS_CA_FILE', `${path} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  }
  return pem;
}

/**
 * `names`: how errors name each setting (a named provider's `providers.1.tls.keyFile`, say);
 * default the variable itself.
 */
export function providerAccess(
  s: ProviderAccessSettings, profileCardEncryption: 'plain' | 'provider-key', read: Read = defaultRead, names: Partial<Record<keyof ProviderAccessSettings, string>> = {},
): ProviderAccess {
  try {
    return access(s, profileCardEncryption, read);
  } catch (err) {
    if (!(err instanceof ProviderSettingsError)) throw err;
    const name = names[err.variable as keyof ProviderAccessSettings];
    if (!name) throw err;
    // The reason may name other settings too (the certificate's key, say): each by its own name.
    let why = err.message.slice(err.variable.length + 2);
    for (const [v, n] of Object.entries(names)) if (n) why = why.replace(new RegExp(`\\b${v}\\b`, 'g'), n);
    throw new ProviderSettingsError(name, why);
  }
}

function access(s: ProviderAccessSettings, profileCardEncryption: 'plain' | 'provider-key', read: Read): ProviderAccess {
  const apiKeyHeader = secret(s, 'PAYMENT_API_KEY', read);
  const bearer = secret(s, 'PAYMENT_API_BEARER', read);
  if (!!s.PAYMENT_TLS_CERT_FILE !== !!s.PAYMENT_TLS_KEY_FILE) {
    const [set, missing] = s.PAYMENT_TLS_CERT_FILE ? ['PAYMENT_TLS_CERT_FILE', 'PAYMENT_TLS_KEY_FILE'] : ['PAYMENT_TLS_KEY_FILE', 'PAYMENT_TLS_CERT_FILE'];
    throw new ProviderSettingsError(missing, `mutual TLS needs both PAYMENT_TLS_CERT_FILE and PAYMENT_TLS_KEY_FILE: ${set} is set, ${missing} is not (PAYMENT_TLS_CA_FILE alone is enough to trust a private CA)`);
  }
  // The CA and the client certificate are independent: a private CA without mutual TLS, mutual TLS
  // with a publicly trusted provider, or both.
  const tls: ProviderTls = {
    ...(s.PAYMENT_TLS_CERT_FILE && s.PAYMENT_TLS_KEY_FILE
      ? { cert: file('PAYMENT_TLS_CERT_FILE', s.PAYMENT_TLS_CERT_FILE, read), key: file('PAYMENT_TLS_KEY_FILE', s.PAYMENT_TLS_KEY_FILE, read) }
      : {}),
    ...(s.PAYMENT_TLS_CA_FILE ? { ca: caBundle(s.PAYMENT_TLS_CA_FILE, read) } : {}),
  };
  let pin: string | undefined;
  if (s.PAYMENT_CARD_KEY_SHA256) {
    pin = normaliseFingerprint(s.PAYMENT_CARD_KEY_SHA256) ?? undefined;
    if (!pin) throw new ProviderSettingsError('PAYMENT_CARD_KEY_SHA256', 'must be 64 hex digits (colons allowed): the SHA-256 of the key\'s DER SubjectPublicKeyInfo');
  }
  let cardEncryption: CardEncryption;
  if (s.PAYMENT_CARD_KEY_FILE) {
    const pem = file('PAYMENT_CARD_KEY_FILE', s.PAYMENT_CARD_KEY_FILE, read);
    let fp: string;
    try {
      fp = cardKeyFingerprint(pem);
    } catch (err) {
      throw new ProviderSettingsError('PAYMENT_CARD_KEY_FILE', (err as Error).message);
    }
    if (pin && fp !== pin) throw new ProviderSettingsError('PAYMENT_CARD_KEY_SHA256', `does not match the key in PAYMENT_CARD_KEY_FILE (${fp})`);
    cardEncryption = { mode: 'key', publicKeyPem: pem };
  } else if (pin || profileCardEncryption === 'provider-key') {
    cardEncryption = pin ? { mode: 'provider-key', pinnedSha256: pin } : { mode: 'provider-key' };
  } else {
    cardEncryption = { mode: 'plain' };
  }
  const agent = keepAliveFetch(tls); // created last: a settings error above leaves no agent behind
  return { ...(apiKeyHeader ? { apiKeyHeader } : {}), ...(bearer ? { bearer } : {}), fetch: agent.fetch, close: agent.close, cardEncryption };
}
