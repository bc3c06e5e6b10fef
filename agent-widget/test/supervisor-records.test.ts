import { describe, expect, it } from 'vitest';
import { MAX_PAGES, PAGE, RecordFetcher } from '../src/supervisor/records.js';
import type { SessionRecord } from '../src/progress/types.js';

const rec = (i: number) => ({ id: `s-${i}`, startedAt: new Date(1_700_000_000_000 - i * 1000).toISOString() }) as unknown as SessionRecord;

function server(total: number) {
  const urls: string[] = [];
  const all = Array.from({ length: total }, (_, i) => rec(i));
  const fetchFn = (async (input: string) => {
    urls.push(input);
    const u = new URL(input, 'http://gw');
    const limit = Number(u.searchParams.get('limit'));
    const before = u.searchParams.get('before');
    const from = before ? all.findIndex((r) => `${r.startedAt}~${r.id}` === before) + 1 : 0;
    const sessions = all.slice(from, from + limit);
    const last = sessions[sessions.length - 1];
    const next = sessions.length === limit && last ? `${last.startedAt}~${last.id}` : null;
    return new Response(JSON.stringify({ sessions, next }), { status: 200 });
  }) as unknown as typeof fetch;
  return { urls, fetchFn };
}

describe('the supervisor dashboard reads GET /api/sessions a page at a time', () => {
  it('follows next until the last page and gets every session once', async () => {
    const s = server(2 * PAGE + 7);
    const all = await new RecordFetcher('t', () => {}, s.fetchFn).all();
    expect(all?.map((r) => r.id)).toEqual(Array.from({ length: 2 * PAGE + 7 }, (_, i) => `s-${i}`));
    expect(s.urls).toHaveLength(3);
    expect(s.urls[0]).toBe(`/api/sessions?limit=${PAGE}`);
    expect(s.urls[1]).toMatch(/&before=/);
  });

  it(`stops after ${MAX_PAGES} pages`, async () => {
    const s = server(PAGE * (MAX_PAGES + 2));
    const all = await new RecordFetcher('t', () => {}, s.fetchFn).all();
    expect(all).toHaveLength(PAGE * MAX_PAGES);
  });

  it('null when the first page fails', async () => {
    const failing = (async () => new Response('', { status: 401 })) as unknown as typeof fetch;
    expect(await new RecordFetcher('t', () => {}, failing).all()).toBeNull();
  });
});
