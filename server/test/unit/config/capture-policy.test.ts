import { describe, expect, it } from 'vitest';
import { allowedBrands, capturePolicySchema, captureOverrides } from '../../../src/config/capture-policy.js';

const policy = capturePolicySchema.parse({
  firstDigitSeconds: 8,
  interDigitSeconds: 4.5,
  maxAttempts: 2,
  allowedBrands: ['visa', 'rupay'],
  merchants: { M1: { maxAttempts: 4, sessionSeconds: 120, allowedBrands: ['rupay'] }, M2: { maxResends: 0 } },
});

describe('capture policy', () => {
  it('converts seconds to the capture machine\'s milliseconds and keeps only what is set', () => {
    expect(captureOverrides(policy)).toEqual({ firstDigitMs: 8000, interDigitMs: 4500, maxAttempts: 2 });
  });

  it('a merchant override wins over the global policy, key by key', () => {
    expect(captureOverrides(policy, 'M1')).toEqual({ firstDigitMs: 8000, interDigitMs: 4500, maxAttempts: 4, sessionMs: 120_000 });
    expect(captureOverrides(policy, 'M2')).toEqual({ firstDigitMs: 8000, interDigitMs: 4500, maxAttempts: 2, maxResends: 0 });
    expect(captureOverrides(policy, 'unknown')).toEqual(captureOverrides(policy));
  });

  it('the brand allow-list is the merchant\'s, else the global one, else none', () => {
    expect(allowedBrands(policy, 'M1')).toEqual(['rupay']);
    expect(allowedBrands(policy, 'M2')).toEqual(['visa', 'rupay']);
    expect(allowedBrands(undefined, 'M1')).toBeUndefined();
    expect(captureOverrides(undefined, 'M1')).toEqual({});
  });

  it('panLength and panTerminator pass through, the merchant\'s replacing the global ones', () => {
    const p = capturePolicySchema.parse({ panLength: { min: 16, max: 16 }, merchants: { AMEX: { panLength: { min: 15, max: 16 }, panTerminator: 'none' } } });
    expect(captureOverrides(p)).toEqual({ panLength: { min: 16, max: 16 } });
    expect(captureOverrides(p, 'AMEX')).toEqual({ panLength: { min: 15, max: 16 }, panTerminator: 'none' });
  });

  it('otpLength passes through, the merchant\'s replacing the global one', () => {
    const p = capturePolicySchema.parse({ otpLength: { min: 6, max: 6 }, merchants: { M4: { otpLength: { min: 4, max: 8 } } } });
    expect(captureOverrides(p)).toEqual({ otpLength: { min: 6, max: 6 } });
    expect(captureOverrides(p, 'M4')).toEqual({ otpLength: { min: 4, max: 8 } });
  });

  it('per-field settings merge field by field, the merchant\'s over the global ones', () => {
    const p = capturePolicySchema.parse({
      fields: { cvv: { maxAttempts: 1, interDigitSeconds: 3 }, otp: { firstDigitSeconds: 20 } },
      merchants: { M3: { fields: { cvv: { maxAttempts: 2 } } } },
    });
    expect(captureOverrides(p, 'M3')).toEqual({ fields: { cvv: { maxAttempts: 2, interDigitMs: 3000 }, otp: { firstDigitMs: 20_000 } } });
    expect(captureOverrides(p)).toEqual({ fields: { cvv: { maxAttempts: 1, interDigitMs: 3000 }, otp: { firstDigitMs: 20_000 } } });
  });

  it.each([
    [{ fields: { pin: { maxAttempts: 1 } } }, 'fields'],
    [{ panTerminator: '*' }, 'panTerminator'],
    [{ panLength: { min: 17, max: 16 } }, 'panLength.min'],
    [{ panLength: { min: 12, max: 16 } }, 'panLength.min'],
    [{ panLength: { min: 16, max: 20 } }, 'panLength.max'],
    [{ fields: { cvv: { maxResends: 1 } } }, 'fields.cvv'],
    [{ otpLength: { min: 3, max: 6 } }, 'otpLength.min'],
    [{ otpLength: { min: 6, max: 9 } }, 'otpLength.max'],
    [{ otpLength: { min: 8, max: 6 } }, 'otpLength.min'],
    [{ maxAttempts: 0 }, 'maxAttempts'],
    [{ firstDigitSeconds: 0.5 }, 'firstDigitSeconds'],
    [{ allowedBrands: [] }, 'allowedBrands'],
    [{ allowedBrands: ['visa', 'amexx'] }, 'allowedBrands.1'],
    [{ merchants: { 'bad id!': {} } }, 'merchants.bad id!'],
    [{ merchants: { M1: { terminator: '#' } } }, 'merchants.M1'],
  ])('%j is refused at %s', (input, path) => {
    const r = capturePolicySchema.safeParse(input);
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => i.path.join('.'))).toContain(path);
  });
});
