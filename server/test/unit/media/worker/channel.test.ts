import { afterEach, describe, expect, it } from 'vitest';
import { Channel, ChannelError } from '../../../../src/media/worker/channel.js';
import type { EchoMethods } from '../../../support/echo-worker.js';

const WORKER = new URL('../../../support/echo-worker.ts', import.meta.url);
let ch: Channel<EchoMethods, { pong: { i: number } }> | undefined;

function spawn(timeoutMs = 2000) {
  ch = Channel.spawn<EchoMethods, { pong: { i: number } }>(WORKER, { timeoutMs });
  return ch;
}
afterEach(async () => {
  await ch?.close();
  ch = undefined;
});

describe('worker channel (numbered requests, notifications)', () => {
  it('answers each numbered request with its own result, whatever the order of completion', async () => {
    const c = spawn();
    const results = await Promise.all([c.request('echo', { value: 1, delayMs: 60 }), c.request('echo', { value: 2 }), c.request('echo', { value: 3, delayMs: 20 })]);
    expect(results.map((r) => r.value)).toEqual([1, 2, 3]);
    expect(c.inFlight).toBe(0);
  });

  it('turns a handler exception into a rejected request and keeps the worker alive', async () => {
    const c = spawn();
    await expect(c.request('fail', { code: 'NOPE' })).rejects.toMatchObject({ code: 'REMOTE', remoteCode: 'NOPE' });
    expect((await c.request('echo', { value: 7 })).value).toBe(7);
  });

  it('rejects a request the worker never answers after the timeout', async () => {
    const c = spawn(150);
    await expect(c.request('silent', {})).rejects.toMatchObject({ code: 'TIMEOUT' });
    expect(c.inFlight).toBe(0);
  });

  it('delivers notifications in order', async () => {
    const c = spawn();
    const got: number[] = [];
    c.onNotification('pong', (d) => got.push(d.i));
    await c.request('ping', { times: 5 });
    await new Promise((r) => setTimeout(r, 20));
    expect(got).toEqual([0, 1, 2, 3, 4]);
  });

  it('a worker that dies rejects every pending request and reports died once', async () => {
    const c = spawn();
    const died: string[] = [];
    c.events.on('died', (r) => died.push(r));
    const pending = c.request('silent', {});
    const crash = c.request('crash', { code: 3 });
    await expect(pending).rejects.toMatchObject({ code: 'WORKER_DIED' });
    await expect(crash).rejects.toBeInstanceOf(ChannelError);
    expect(died).toEqual(['worker exited with code 3']);
    await expect(c.request('echo', { value: 1 })).rejects.toMatchObject({ code: 'WORKER_DIED' });
  });

  it('close() is idempotent and later requests are rejected', async () => {
    const c = spawn();
    await c.close();
    await c.close();
    await expect(c.request('echo', { value: 1 })).rejects.toMatchObject({ code: 'CLOSED' });
  });
});
