import { describe, expect, it } from 'vitest';
import { Metrics } from '../../../src/observability/metrics.js';

const base = { activeCalls: () => 0, activeCaptures: () => 0, breakers: () => ({}), rtp: async () => ({ packetsIn: 0, packetsOut: 0, lost: 0, wrongSource: 0 }), redis: () => undefined };

describe('tonegate_media_worker_memory_bytes', () => {
  it('has one series per live worker and kind, read at scrape time', async () => {
    let heapUsed = 10;
    const m = new Metrics({
      ...base,
      mediaWorkerMemory: async () => [
        { worker: 0, memory: { heapUsed, heapTotal: 20, external: 3, arrayBuffers: 2, malloced: 1 } },
        { worker: 1, memory: { heapUsed: 11, heapTotal: 21, external: 4, arrayBuffers: 5, malloced: 6 } },
      ],
    });
    let text = await m.metrics();
    expect(text).toContain('tonegate_media_worker_memory_bytes{worker="0",kind="heap_used"} 10');
    expect(text).toContain('tonegate_media_worker_memory_bytes{worker="1",kind="array_buffers"} 5');
    expect(text).toContain('tonegate_media_worker_memory_bytes{worker="1",kind="malloced"} 6');
    heapUsed = 12;
    text = await m.metrics();
    expect(text).toContain('tonegate_media_worker_memory_bytes{worker="0",kind="heap_used"} 12');
  });

  it('is absent without the source', async () => {
    expect(await new Metrics(base).metrics()).not.toContain('tonegate_media_worker_memory_bytes{');
  });
});
