import { describe, expect, it } from 'vitest';
import { base32Decode, base32Encode, hotp, totp, verifyTotp, type TotpAlgorithm } from '../../../src/security/totp.js';

// RFC 6238 Appendix B: the seeds and the 8-digit codes for T0 = 0, X = 30.
const SEED: Record<TotpAlgorithm, Buffer> = {
  sha1: Buffer.from('12345678901234567890'),
  sha256: Buffer.from('12345678901234567890123456789012'),
  sha512: Buffer.from('1234567890123456789012345678901234567890123456789012345678901234'),
};
const VECTORS: [number, string, string, string][] = [
  [59, '94287082', '46119246', '90693936'],
  [1111111109, '07081804', '68084774', '25091201'],
  [1111111111, '14050471', '67062674', '99943326'],
  [1234567890, '89005924', '91819424', '93441116'],
  [2000000000, '69279037', '90698825', '38618901'],
  [20000000000, '65353130', '77737706', '47863826'],
];

describe('TOTP (RFC 6238) with node:crypto', () => {
  it.each(VECTORS)('Appendix B, T=%i s: SHA-1 %s, SHA-256 %s, SHA-512 %s', (t, sha1, sha256, sha512) => {
    expect(totp(SEED.sha1, t * 1000, { digits: 8 })).toBe(sha1);
    expect(totp(SEED.sha256, t * 1000, { digits: 8, algorithm: 'sha256' })).toBe(sha256);
    expect(totp(SEED.sha512, t * 1000, { digits: 8, algorithm: 'sha512' })).toBe(sha512);
  });

  it('HOTP matches RFC 4226 Appendix D (counters 0-9)', () => {
    const want = ['755224', '287082', '359152', '969429', '338314', '254676', '287922', '162583', '399871', '520489'];
    expect(want.map((_, i) => hotp(SEED.sha1, i))).toEqual(want);
  });

  it('accepts the code of this step and one step either side, each once; refuses others', () => {
    const now = 1_700_000_000_000;
    const code = totp(SEED.sha1, now);
    const step = verifyTotp(SEED.sha1, code, now);
    expect(step).toBe(Math.floor(now / 30_000));
    expect(verifyTotp(SEED.sha1, code, now, { lastUsedStep: step })).toBeUndefined(); // replay
    expect(verifyTotp(SEED.sha1, totp(SEED.sha1, now - 30_000), now)).toBe(step! - 1);
    expect(verifyTotp(SEED.sha1, totp(SEED.sha1, now - 90_000), now)).toBeUndefined();
    expect(verifyTotp(SEED.sha1, '12345', now)).toBeUndefined();
    expect(verifyTotp(SEED.sha1, 'abcdef', now)).toBeUndefined();
  });

  it('base32 round-trips and matches RFC 4648 10', () => {
    expect(base32Encode(Buffer.from('foobar'))).toBe('MZXW6YTBOI');
    expect(base32Decode('MZXW6YTBOI======').toString()).toBe('foobar');
    expect(base32Decode('mzxw 6ytb oi').toString()).toBe('foobar');
    expect(() => base32Decode('M1')).toThrow();
  });
});
