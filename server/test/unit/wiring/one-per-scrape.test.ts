import { describe, expect, it } from 'vitest';
import { onePerScrape } from '../../../src/wiring/metrics.js';

const nextTurn = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('onePerScrape: one media-worker round trip per /metrics scrape', () => {
  it('callers while an answer is pending share it; the next call after it settled asks again', async () => {
    let asked = 0;
    const read = onePerScrape(async () => ++asked);
    const [a, b] = await Promise.all([read(), read()]);
    expect([a, b, asked]).toEqual([1, 1, 1]);
    await nextTurn();
    expect(await read()).toBe(2);
  });

  it('a failed read is not kept: every sharer sees the error, and the next call asks again', async () => {
    let asked = 0;
    const read = onePerScrape(async () => {
      asked++;
      if (asked === 1) throw new Error('worker gone');
      return asked;
    });
    const both = await Promise.allSettled([read(), read()]);
    expect(both.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    await nextTurn();
    expect(await read()).toBe(2);
  });
});
