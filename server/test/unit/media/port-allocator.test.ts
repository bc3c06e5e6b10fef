import { describe, expect, it } from 'vitest';
import { PortAllocator, PortExhaustedError } from '../../../src/media/port-allocator.js';

describe('PortAllocator (RFC 3550 §11: RTP even, RTCP = RTP + 1)', () => {
  it('hands out even ports whose RTCP port is still inside the range', () => {
    const a = new PortAllocator(20001, 20008);
    expect(a.capacity).toBe(3);
    expect([a.allocate(), a.allocate(), a.allocate()]).toEqual([20002, 20004, 20006]);
  });

  it('an even max leaves no room for its RTCP port, so it is not used', () => {
    const a = new PortAllocator(20000, 20004);
    expect(a.capacity).toBe(2);
    expect([a.allocate(), a.allocate()]).toEqual([20000, 20002]);
    expect(() => a.allocate()).toThrow(PortExhaustedError);
  });

  it('exhaustion is a PortExhaustedError with a code', () => {
    const a = new PortAllocator(30000, 30001);
    a.allocate();
    try {
      a.allocate();
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(PortExhaustedError);
      expect((err as PortExhaustedError).code).toBe('PORT_EXHAUSTED');
      expect((err as Error).message).toBe('no free RTP port pair in 30000-30001');
    }
  });

  it('round-robin: a released port is not handed out again until the others have been', () => {
    const a = new PortAllocator(20000, 20007); // 20000, 20002, 20004, 20006
    const first = a.allocate();
    a.release(first);
    expect([a.allocate(), a.allocate(), a.allocate()]).toEqual([20002, 20004, 20006]);
    expect(a.allocate()).toBe(first); // only now, after wrapping round
  });

  it('wraps round and skips ports still in use', () => {
    const a = new PortAllocator(20000, 20007);
    const ports = [a.allocate(), a.allocate(), a.allocate(), a.allocate()];
    a.release(ports[2]!);
    expect(a.allocate()).toBe(20004);
    expect(a.allocated).toBe(4);
  });

  it('release is idempotent and ignores ports it never gave out', () => {
    const a = new PortAllocator(20000, 20003);
    const p = a.allocate();
    expect(a.release(p)).toBe(true);
    expect(a.release(p)).toBe(false);
    expect(a.release(12345)).toBe(false);
    expect(a.allocated).toBe(0);
    expect(a.isAllocated(p)).toBe(false);
  });

  it.each([[20000, 20000], [20001, 20001], [0, 10], [20000, 70000], [20010, 20000], [1.5, 10]])('refuses the range %i-%i', (min, max) => {
    expect(() => new PortAllocator(min, max)).toThrow(RangeError);
  });
});
