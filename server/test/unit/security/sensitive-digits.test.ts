import { Writable } from 'node:stream';
import { format, inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/observability/logger.js';
import { REDACTED, SensitiveDigits } from '../../../src/security/sensitive-digits.js';

const PAN = '4111111111111111';

function filled(value = PAN): SensitiveDigits {
  const s = new SensitiveDigits(19);
  for (const ch of value) s.append(ch);
  return s;
}

describe('SensitiveDigits', () => {
  it('collects digits up to its capacity and no further', () => {
    const s = new SensitiveDigits(3);
    s.append('1');
    s.append(2);
    expect(s.length).toBe(2);
    expect(s.isFull).toBe(false);
    s.append('3');
    expect(s.isFull).toBe(true);
    expect(() => s.append('4')).toThrow(RangeError);
    expect(s.revealForProvider()).toBe('123');
  });

  it.each(['a', '*', '#', '12', '', 10, -1, 1.5, 0x31])('refuses the non-digit %j', (d) => {
    expect(() => new SensitiveDigits(4).append(d)).toThrow(RangeError);
  });

  it('clear() zero-fills the very buffer the digits lived in', () => {
    const s = filled();
    let view: Buffer | undefined;
    s.withValue((b) => {
      view = b;
    });
    expect(view!.toString('latin1')).toBe(PAN);
    const whole = Buffer.from(view!.buffer, view!.byteOffset, 19);
    s.clear();
    expect(s.length).toBe(0);
    expect(whole.every((b) => b === 0)).toBe(true);
  });

  it('dispose() zero-fills, is idempotent, and every later use throws', () => {
    const s = filled();
    let view: Buffer | undefined;
    s.withValue((b) => {
      view = b;
    });
    s.dispose();
    s.dispose();
    expect(view!.every((b) => b === 0)).toBe(true);
    expect(s.disposed).toBe(true);
    expect(() => s.append('1')).toThrow(/dispose/);
    expect(() => s.length).toThrow(/dispose/);
    expect(() => s.withValue(() => 1)).toThrow(/dispose/);
    expect(() => s.revealForProvider()).toThrow(/dispose/);
    expect(() => s.clear()).toThrow(/dispose/);
    expect(String(s)).toBe(REDACTED);
  });

  it('fromString wraps provider digits and zeroes itself when they are not digits', () => {
    expect(SensitiveDigits.fromString('123456').revealForProvider()).toBe('123456');
    expect(() => SensitiveDigits.fromString('12a4')).toThrow(RangeError);
    expect(() => SensitiveDigits.fromString('12345', 4)).toThrow(RangeError);
  });

  it('withValue gives a view of exactly the digits held', () => {
    const s = filled('737');
    expect(s.withValue((b) => b.length)).toBe(3);
    expect(s.withValue((b) => b.toString('latin1'))).toBe('737');
  });

  it('every string conversion is redacted', () => {
    const s = filled();
    const holder = { card: { pan: s }, cvv: s, list: [s] };
    const outputs = [
      String(s),
      `${s}`,
      'x' + s,
      s.toString(),
      JSON.stringify(s),
      JSON.stringify(holder),
      inspect(s),
      inspect(holder, { depth: 10, showHidden: true }),
      format('%s %o %O %j', s, s, holder, holder),
      JSON.stringify({ ...s }),
      JSON.stringify(structuredClone({ ...s })),
    ];
    for (const out of outputs) expect(out).not.toContain('4111');
    expect(JSON.parse(JSON.stringify(holder))).toEqual({ card: { pan: REDACTED }, cvv: REDACTED, list: [REDACTED] });
  });

  it('pino writes [redacted] for it, whatever the field name', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(chunk.toString('utf8'));
        cb();
      },
    });
    const log = createLogger('trace', sink);
    const s = filled();
    log.info({ digits: s, nested: { whatever: s }, arr: [s] }, 'card %s', s);
    log.error({ err: new Error(`failed for ${s}`) }, 'boom');
    // pino's epoch-ms `time` can hold any 4 digits by chance (1796531411198 holds 4111): scan the rest.
    const all = lines.map((l) => JSON.stringify({ ...(JSON.parse(l) as Record<string, unknown>), time: undefined })).join('');
    expect(lines).toHaveLength(2);
    expect(all).not.toContain('4111');
    expect(all).toContain(REDACTED);
  });
});
