import { describe, expect, it } from 'vitest';
import { packHistory, PackedHistoryError, unpackHistory } from '../../../src/store/packed-history.js';

describe('packed event history', () => {
  const events = Array.from({ length: 60 }, (_, i) => ({ type: 'field-digit', sessionId: 's-1', seq: i + 1, at: '2026-12-07T06:00:00.000Z', masked: '•'.repeat(i % 16), tags: [] as string[], nested: { ok: true, n: null } }));

  it('round-trips events unchanged, in far fewer bytes than their JSON', () => {
    const p = packHistory({ lastSeq: 60, lastAt: 123, events });
    expect(p).toMatchObject({ lastSeq: 60, lastAt: 123, count: 60 });
    expect(p.bytes.byteLength).toBeLessThan(JSON.stringify(events).length / 5);
    expect(unpackHistory(p)).toEqual({ lastSeq: 60, lastAt: 123, events });
  });

  it('holds exactly its bytes, not a view of a larger buffer', () => {
    const p = packHistory({ lastSeq: 1, lastAt: 0, events: events.slice(0, 1) });
    expect(p.bytes.byteOffset).toBe(0);
    expect(p.bytes.buffer.byteLength).toBe(p.bytes.byteLength);
  });

  it('says clearly when the bytes are damaged or hold another count', () => {
    const p = packHistory({ lastSeq: 60, lastAt: 0, events });
    expect(() => unpackHistory({ ...p, bytes: p.bytes.slice(0, 10) })).toThrow(PackedHistoryError);
    expect(() => unpackHistory({ ...p, bytes: new Uint8Array([1, 2, 3]) })).toThrow(/unreadable/);
    expect(() => unpackHistory({ ...p, count: 59 })).toThrow('packed event history holds 60 events, 59 expected');
  });
});
