import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileOutbox } from '../../../src/outcomes/index.js';

const entry = (id: string, at = 1) => ({ id, body: JSON.stringify({ id }), createdAt: at });
const fresh = () => join(mkdtempSync(join(tmpdir(), 'tg-outbox-')), 'sub', 'outbox.jsonl');

describe('FileOutbox (the webhook journal)', () => {
  it('keeps what was appended and not settled across a reopen, oldest first', async () => {
    const path = fresh();
    const a = await FileOutbox.open(path);
    expect(await a.append(entry('s1:paid', 2))).toBe(true);
    expect(await a.append(entry('s2:failed', 1))).toBe(true);
    expect(await a.append(entry('s3:declined', 3))).toBe(true);
    await a.settle('s1:paid', 'delivered');
    await a.settle('s3:declined', 'dead');
    // no close(): as if the process were killed
    const b = await FileOutbox.open(path);
    expect((await b.pending()).map((e) => e.id)).toEqual(['s2:failed']);
    expect(b.size()).toBe(1);
    await Promise.all([a.close(), b.close()]);
  });

  it('refuses a second enqueue of the same outcome, waiting or recently settled', async () => {
    const ob = await FileOutbox.open(fresh());
    expect(await ob.append(entry('s1:paid'))).toBe(true);
    expect(await ob.append(entry('s1:paid'))).toBe(false);
    await ob.settle('s1:paid', 'delivered');
    expect(await ob.append(entry('s1:paid'))).toBe(false);
    expect(ob.size()).toBe(0);
    await ob.close();
  });

  it('skips a torn last line (a crash mid-write) and keeps the rest', async () => {
    const path = fresh();
    const a = await FileOutbox.open(path);
    await a.append(entry('s1:paid'));
    await a.close();
    appendFileSync(path, '{"op":"add","entry":{"id":"s2:pa');
    const b = await FileOutbox.open(path);
    expect(b.skippedLines).toBe(1);
    expect((await b.pending()).map((e) => e.id)).toEqual(['s1:paid']);
    await b.close();
  });

  it('compacts at open: the journal holds only the waiting entries afterwards', async () => {
    const path = fresh();
    const a = await FileOutbox.open(path);
    for (let i = 0; i < 50; i++) await a.append(entry(`s${i}:paid`, i));
    for (let i = 0; i < 49; i++) await a.settle(`s${i}:paid`, 'delivered');
    await a.close();
    expect(readFileSync(path, 'utf8').trim().split('\n')).toHaveLength(99);
    const b = await FileOutbox.open(path);
    expect(readFileSync(path, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { entry: { id: string } }).entry.id)).toEqual(['s49:paid']);
    await b.close();
  });

  it('compacts while running once settled lines pile up', async () => {
    const path = fresh();
    const ob = await FileOutbox.open(path);
    for (let i = 0; i < 1000; i++) {
      await ob.append(entry(`s${i}:paid`, i));
      await ob.settle(`s${i}:paid`, 'delivered');
    }
    await ob.append(entry('last:paid'));
    expect(readFileSync(path, 'utf8').trim().split('\n')).toHaveLength(1);
    await ob.close();
  });

  it('ignores lines of the wrong shape', async () => {
    const path = fresh();
    (await FileOutbox.open(path)).close();
    writeFileSync(path, '{"op":"add","entry":{"id":5}}\n{"op":"nope"}\n[]\n');
    const ob = await FileOutbox.open(path);
    expect(await ob.pending()).toEqual([]);
    await ob.close();
  });
});
