/**
 * SDES: SRTP master keys in SDP (RFC 4568), and the gateway's SRTP policy for SIP legs.
 *
 *   a=crypto:<tag> <crypto-suite> inline:<base64 key||salt>[|<lifetime>][|<MKI>:<length>] [<session-params>]
 *
 * tonegate accepts AES_CM_128_HMAC_SHA1_80 (RFC 4568 §6.2.1) and AES_256_CM_HMAC_SHA1_80
 * (RFC 6188 §7.1), one master key per crypto line without MKI, key derivation rate 0, and a key
 * lifetime of at least 2^20 packets (no re-keying: a payment call is far shorter). Everything else
 * makes that crypto line unacceptable (RFC 4568 §6.3, §7.1.2: the answerer picks the first
 * acceptable line in the offerer's order); when no line is acceptable the offer gets 488 naming
 * why each was refused.
 *
 * The answer carries the chosen tag and suite with the gateway's own fresh random key (RFC 4568
 * §7.1.2: each direction has its own master key). SDES keys are only as secret as the SIP
 * signalling carrying them (RFC 4568 §8.3): use SIP over TLS (docs/security.md).
 */
import { randomBytes } from 'node:crypto';
import type { ParsedSdp, SdpError } from './types.js';

export type SdesSuiteName = 'AES_CM_128_HMAC_SHA1_80' | 'AES_256_CM_HMAC_SHA1_80';

/** Master key octets per suite; the master salt is 14 octets for both (RFC 3711 §8.2, RFC 6188 §6). */
export const SDES_SUITES: Readonly<Record<SdesSuiteName, { keyLength: number }>> = {
  AES_CM_128_HMAC_SHA1_80: { keyLength: 16 },
  AES_256_CM_HMAC_SHA1_80: { keyLength: 32 },
};
export const SDES_SALT_LENGTH = 14;
/** Shortest key lifetime we accept, in packets: 2^20 is 5.8 hours of 20 ms packets. */
export const MIN_KEY_LIFETIME = 2 ** 20;
/** RFC 3711 §9.2: an SRTP master key protects at most 2^48 packets. */
export const MAX_KEY_LIFETIME = 2 ** 48;

export const SAVP = 'RTP/SAVP';
export const AVP = 'RTP/AVP';

/** One acceptable a=crypto line: its tag, suite, decoded master key || salt and lifetime (packets). */
export interface SdesKey {
  tag: number;
  suite: SdesSuiteName;
  keySalt: Buffer;
  lifetime: number | null;
}

const TAG = /^\d{1,9}$/;
const B64 = /^[A-Za-z0-9+/]+={0,2}$/;
const LIFETIME = /^(2\^)?(\d{1,15})$/;

const isSuite = (s: string): s is SdesSuiteName => Object.hasOwn(SDES_SUITES, s);

/** Parse the value of one `a=crypto:` attribute. A string: why it is not acceptable. */
export function parseCryptoAttribute(value: string): SdesKey | string {
  const parts = value.trim().split(/\s+/);
  const [tagText = '', suite = '', keyParams = '', ...sessionParams] = parts;
  if (!TAG.test(tagText)) return `bad tag "${tagText}" (RFC 4568 §9.1: 1-9 digits)`;
  const tag = Number(tagText);
  if (!isSuite(suite)) return `tag ${tag}: crypto suite ${suite || '(none)'} not supported (AES_CM_128_HMAC_SHA1_80, AES_256_CM_HMAC_SHA1_80)`;
  if (keyParams.includes(';')) return `tag ${tag}: several master keys (MKI) are not supported`;
  if (!keyParams.startsWith('inline:')) return `tag ${tag}: key method must be inline (RFC 4568 §6.1)`;
  const [b64 = '', ...extras] = keyParams.slice('inline:'.length).split('|');
  if (!B64.test(b64)) return `tag ${tag}: the inline key is not base64`;
  const keySalt = Buffer.from(b64, 'base64');
  const want = SDES_SUITES[suite].keyLength + SDES_SALT_LENGTH;
  if (keySalt.length !== want) {
    keySalt.fill(0);
    return `tag ${tag}: ${suite} needs a ${want}-octet key||salt, got ${keySalt.length}`;
  }
  let lifetime: number | null = null;
  const refuse = (why: string): string => {
    keySalt.fill(0);
    return `tag ${tag}: ${why}`;
  };
  for (const extra of extras) {
    if (extra.includes(':')) return refuse('MKI is not supported (RFC 4568 §6.1)');
    const m = LIFETIME.exec(extra);
    if (!m || lifetime !== null) return refuse(`bad key parameter "|${extra}"`);
    lifetime = m[1] ? 2 ** Number(m[2]) : Number(m[2]);
    if (lifetime < MIN_KEY_LIFETIME) return refuse(`key lifetime ${extra} is shorter than 2^20 packets (re-keying is not supported)`);
    if (lifetime > MAX_KEY_LIFETIME) return refuse(`key lifetime ${extra} exceeds the SRTP maximum 2^48 (RFC 3711 §9.2)`);
  }
  for (const p of sessionParams) {
    const [name = '', arg] = p.split('=');
    if (name === 'KDR' && arg === '0') continue; // RFC 4568 §6.3.2: rate 0, derive once (our only rate)
    if (name === 'WSH' && arg !== undefined && /^\d+$/.test(arg)) continue; // §6.3.7: a hint; our window is 64
    if (name === 'UNENCRYPTED_SRTP' || name === 'UNENCRYPTED_SRTCP' || name === 'UNAUTHENTICATED_SRTP') {
      return refuse(`${name} is refused: media must be encrypted and authenticated`);
    }
    return refuse(`session parameter ${p} is not supported (RFC 4568 §6.3)`);
  }
  return { tag, suite, keySalt, lifetime };
}

/** A fresh master key || salt for `suite` and the a=crypto value that carries it. */
export function newSdesKey(suite: SdesSuiteName, tag: number): SdesKey {
  return { tag, suite, keySalt: randomBytes(SDES_SUITES[suite].keyLength + SDES_SALT_LENGTH), lifetime: null };
}

/** The a=crypto value (without "a=crypto:") for our key. */
export function formatCryptoAttribute(key: SdesKey): string {
  return `${key.tag} ${key.suite} inline:${key.keySalt.toString('base64')}`;
}

/**
 * `SRTP` setting: `required` every SIP leg is RTP/SAVP (a plain offer gets 488), `offer` both are
 * accepted and the gateway offers SAVP to SIP agents when the caller's leg is encrypted, `off`
 * plain RTP only (RTP/SAVP gets 488).
 */
export type SrtpPolicy = 'required' | 'offer' | 'off';

export const isSrtpPolicy = (s: string): s is SrtpPolicy => s === 'required' || s === 'offer' || s === 'off';

/** What to do with an offer's audio stream: plain RTP, SRTP with the offerer's key, or refuse. */
export type SrtpDecision =
  | { action: 'plain' }
  | { action: 'srtp'; remote: SdesKey }
  | { action: 'refuse'; error: SdpError };

const refuse = (error: string): SrtpDecision => ({ action: 'refuse', error: { error, status: 488 } });

/**
 * The SRTP decision for an offer under `policy` (pure; calls/ asks it before ringing anyone).
 * RTP/AVP: plain unless the policy is `required`. RTP/SAVP: the first acceptable a=crypto line
 * unless the policy is `off`. Any other transport: 488.
 */
export function negotiateSrtp(offer: Pick<ParsedSdp, 'protocol' | 'crypto'>, policy: SrtpPolicy): SrtpDecision {
  if (offer.protocol === AVP) {
    return policy === 'required'
      ? refuse(`plain ${AVP} refused: this gateway requires SRTP (${SAVP} with a=crypto, RFC 4568)`)
      : { action: 'plain' };
  }
  if (offer.protocol !== SAVP) return refuse(`unsupported transport ${offer.protocol} (${AVP} or ${SAVP} only)`);
  if (policy === 'off') return refuse(`unsupported transport ${SAVP}: SRTP is off on this gateway (plain ${AVP} only)`);
  if (offer.crypto.length === 0) return refuse(`${SAVP} without a=crypto: no SDES key (RFC 4568); DTLS-SRTP is for WebRTC legs only`);
  const why: string[] = [];
  for (const line of offer.crypto) {
    const k = parseCryptoAttribute(line);
    if (typeof k !== 'string') return { action: 'srtp', remote: k };
    why.push(k);
  }
  return refuse(`no acceptable a=crypto: ${why.join('; ')}`);
}

/**
 * The answerer's a=crypto to our offer (RFC 4568 §7.1.3): it must name a tag and suite we offered,
 * with its own key. An error (488) when the answer is plain or the crypto does not match.
 */
export function acceptAnswerCrypto(answer: Pick<ParsedSdp, 'protocol' | 'crypto'>, offered: SdesKey): SdesKey | SdpError {
  if (answer.protocol !== SAVP) return { error: `the answer is ${answer.protocol} to our ${SAVP} offer`, status: 488 };
  if (answer.crypto.length !== 1) return { error: `the answer must carry exactly one a=crypto (RFC 4568 §7.1.2), it has ${answer.crypto.length}`, status: 488 };
  const k = parseCryptoAttribute(answer.crypto[0]!);
  if (typeof k === 'string') return { error: `unacceptable a=crypto in the answer: ${k}`, status: 488 };
  if (k.tag !== offered.tag || k.suite !== offered.suite) {
    k.keySalt.fill(0);
    return { error: `the answer's a=crypto tag ${k.tag} ${k.suite} does not match our offer (${offered.tag} ${offered.suite})`, status: 488 };
  }
  return k;
}

/**
 * The policy for one SIP leg. An explicit `SRTP` setting applies to every leg. Unset: `off` in
 * demo mode (plain RTP, as always), and in production `required` towards a media peer that is not
 * on loopback and `offer` towards one that is (a co-located PBX or test tool).
 */
export function srtpPolicyFor(setting: SrtpPolicy | undefined, production: boolean, peerAddress: string): SrtpPolicy {
  if (setting) return setting;
  if (!production) return 'off';
  return isLoopback(peerAddress) ? 'offer' : 'required';
}

function isLoopback(address: string): boolean {
  return /^127\./.test(address) || address === '::1' || /^::ffff:127\./i.test(address);
}
