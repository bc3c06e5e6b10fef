import { describe, expect, it } from 'vitest';
import { SequenceTracker, TimestampUnwrapper, seqDiff, tsAdd, tsAfter, tsDiff } from '../../../../src/media/rtp/index.js';

const feed = (t: SequenceTracker, seqs: number[]): Array<[number, string]> => seqs.map((s) => [t.update(s), t.status]);

describe('SequenceTracker (RFC 3550 Appendix A.1)', () => {
  it('holds a new source on probation for MIN_SEQUENTIAL = 2 packets', () => {
    const t = new SequenceTracker();
    expect(feed(t, [100, 101, 102])).toEqual([
      [-1, 'probation'],
      [101, 'in-order'],
      [102, 'in-order'],
    ]);
    expect(t.received).toBe(2);
    expect(t.expected).toBe(2);
    expect(t.lost).toBe(0);
  });

  it('restarts probation when the probation packets are not consecutive', () => {
    const t = new SequenceTracker();
    expect(feed(t, [10, 20, 21, 22]).map(([, s]) => s)).toEqual(['probation', 'probation', 'in-order', 'in-order']);
  });

  it('minSequential: 1 validates on the first packet', () => {
    const t = new SequenceTracker({ minSequential: 1 });
    expect(t.update(7)).toBe(7);
  });

  it('extends across the 16-bit wrap and counts cycles', () => {
    const t = new SequenceTracker({ minSequential: 1 });
    const out = [65533, 65534, 65535, 0, 1, 2].map((s) => t.update(s));
    expect(out).toEqual([65533, 65534, 65535, 65536, 65537, 65538]);
    expect(t.extendedMax).toBe(65538);
  });

  it('counts a gap below MAX_DROPOUT as loss', () => {
    const t = new SequenceTracker({ minSequential: 1 });
    t.update(1);
    expect(t.update(2000)).toBe(2000);
    expect(t.status).toBe('in-order');
    expect(t.lost).toBe(1998);
  });

  it('marks late and duplicate packets within MAX_MISORDER, also across a wrap', () => {
    const t = new SequenceTracker({ minSequential: 1 });
    for (const s of [65530, 65531, 65532, 65533, 65534, 65535, 0, 1]) t.update(s);
    expect(t.update(65534)).toBe(65534); // previous cycle
    expect(t.status).toBe('late');
    expect(t.update(1)).toBe(65537); // duplicate of the highest
    expect(t.status).toBe('late');
    expect(t.lost).toBe(-2); // duplicates make the loss negative, as A.3 says
  });

  it('drops a very large jump until the next packet confirms a sender restart', () => {
    const t = new SequenceTracker({ minSequential: 1 });
    t.update(100);
    t.update(101);
    expect(t.update(40000)).toBe(-1);
    expect(t.status).toBe('jump');
    expect(t.update(102)).toBe(102); // the old stream goes on: the jump was a stray packet
    expect(t.update(30000)).toBe(-1);
    expect(t.update(30001)).toBe(30001);
    expect(t.status).toBe('restart');
    expect(t.received).toBe(1);
    expect(t.update(30002)).toBe(30002);
  });

  it('takes a jump just under MAX_DROPOUT as loss, 99 behind as late and MAX_MISORDER behind as a jump', () => {
    const t = new SequenceTracker({ minSequential: 1, maxDropout: 3000, maxMisorder: 100 });
    t.update(5000);
    expect(t.update(7999)).toBe(7999);
    expect(t.update(7900)).toBe(7900); // 99 behind
    expect(t.status).toBe('late');
    expect(t.update(7899)).toBe(-1); // 100 behind: A.1 treats it as a jump
    expect(t.status).toBe('jump');
  });
});

describe('sequence and timestamp arithmetic', () => {
  it('seqDiff is signed modulo 2^16', () => {
    expect(seqDiff(1, 65535)).toBe(2);
    expect(seqDiff(65535, 1)).toBe(-2);
    expect(seqDiff(32767, 0)).toBe(32767);
    expect(seqDiff(32768, 0)).toBe(-32768);
  });

  it('tsDiff / tsAdd / tsAfter wrap modulo 2^32', () => {
    expect(tsDiff(10, 0xfffffff6)).toBe(20);
    expect(tsDiff(0xfffffff6, 10)).toBe(-20);
    expect(tsAdd(0xffffff00, 0x200)).toBe(0x100);
    expect(tsAfter(5, 0xffffffff)).toBe(true);
    expect(tsAfter(0xffffffff, 5)).toBe(false);
  });

  it('TimestampUnwrapper extends across the wrap and leaves late values behind', () => {
    const u = new TimestampUnwrapper();
    expect(u.unwrap(0xffffff00)).toBe(0xffffff00);
    expect(u.unwrap(0x40)).toBe(0x100000040);
    expect(u.unwrap(0xfffffff0)).toBe(0xfffffff0);
    expect(u.unwrap(0x80)).toBe(0x100000080);
  });
});
