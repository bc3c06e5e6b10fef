import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { Principal } from '../../src/api/auth.js';
import { EventHub } from '../../src/api/event-hub.js';
import type { SessionEvent } from '../../src/capture/events.js';
import { createLogger } from '../../src/observability/logger.js';
import { LogSink } from '../support/gateway.js';
import { MemoryEventBus, MemorySessionStore, type SessionRecord, type Unsequenced } from '../../src/store/index.js';
import { FakeClock } from '../support/fake-clock.js';
import { EventsClient } from '../support/events-client.js';

/**
 * The /events hub on a bare HTTP server with the memory store and bus and a fake clock: the parts
 * a whole gateway cannot drive on demand (keep-alive, token expiry, slow readers, owner look-ups).
 */
const open: { server: Server; hub: EventHub; clients: EventsClient[] }[] = [];

async function setup(limits: ConstructorParameters<typeof EventHub>[0]['limits'] = {}) {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  const clock = new FakeClock();
  const logs = new LogSink();
  const bus = new MemoryEventBus<SessionEvent>();
  const store = new MemorySessionStore();
  const tokens = new Map<string, Principal>([['sup', { kind: 'supervisor' }], ['a1', { kind: 'agent', agentId: 'agent-1' }], ['a2', { kind: 'agent', agentId: 'agent-2' }]]);
  const hub = new EventHub({
    server, bus, store, clock, logger: createLogger('debug', logs), limits,
    resolve: (t) => tokens.get(t), tokenKey: (t) => `k:${t}`,
    control: { command: async () => ({ ok: true }) },
  });
  const clients: EventsClient[] = [];
  open.push({ server, hub, clients });
  const client = (opts: { autoPong?: boolean } = {}) => {
    const c = new EventsClient(`ws://127.0.0.1:${port}/events`, opts);
    clients.push(c);
    return c;
  };
  return { clock, bus, store, tokens, hub, client, logs };
}

afterEach(async () => {
  for (const { server, hub, clients } of open.splice(0)) {
    for (const c of clients) c.ws.terminate();
    await hub.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});

const record = (id: string, agentId: string | null): SessionRecord => ({
  id, state: 'pan', field: 'pan', outcome: null, orderRef: `ORD-${id}`, amount: '10.00', currency: 'INR', merchantId: 'M-1',
  agentId, dtmfTransport: null, card: null, startedAt: new Date().toISOString(), endedAt: null, instanceId: 'gw-1',
});
const digit = (sessionId: string, count: number, agentId: string | null): Unsequenced<SessionEvent> => ({ type: 'digit.entered', sessionId, agentId, at: new Date().toISOString(), field: 'pan', count });

/** Resolves once every client has answered a command sent after everything else (the server handled all before it). */
async function settle(...cs: EventsClient[]): Promise<void> {
  await Promise.all(cs.map((c, i) => c.command(`settle-${i}-${c.frames.length}`, 'x', { type: 'session.cancel' })));
}

describe('EventHub', () => {
  it('events are relayed by the agent they carry, in order, to that agent and no other, without reading the store', async () => {
    const { bus, store, client } = await setup();
    await store.create(record('s1', 'agent-1'));
    const [a1, a2] = [client(), client()];
    await Promise.all([a1.auth('a1'), a2.auth('a2')]);
    // No session.started went by, and the store cannot answer: the event's own agentId routes it.
    store.get = () => Promise.reject(new Error('the hub must not read the store to route events'));
    for (let i = 1; i <= 20; i++) await bus.publish(digit('s1', i, 'agent-1'));
    await a1.next((f) => f.type === 'digit.entered' && f.count === 20, 'the 20th digit');
    expect(a1.eventsOf('s1').map((f) => f.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    await settle(a2);
    expect(a2.eventsOf('s1')).toEqual([]);
  });

  it('events of a session nobody owns (agentId null) reach supervisors only', async () => {
    const { bus, client } = await setup();
    const [a1, sup] = [client(), client()];
    await Promise.all([a1.auth('a1'), sup.auth('sup')]);
    await bus.publish(digit('ghost', 1, null));
    await sup.next((f) => f.sessionId === 'ghost', 'ghost event');
    await settle(a1);
    expect(a1.eventsOf('ghost')).toEqual([]);
  });

  it('a peer that does not answer pings is dropped; one that does stays', async () => {
    const { clock, client, hub } = await setup();
    const deaf = client({ autoPong: false });
    const alive = client();
    await Promise.all([deaf.auth('sup'), alive.auth('a1')]);
    clock.advance(30_000); // ping
    await new Promise((r) => setTimeout(r, 100)); // let the pong cross the real socket
    clock.advance(30_000); // no pong from deaf: dropped
    expect((await deaf.closed).code).toBe(1006);
    expect(alive.ws.readyState).toBe(alive.ws.OPEN);
    while (hub.connections > 1) await new Promise((r) => setTimeout(r, 10)); // the server's side of the close
    expect(hub.connections).toBe(1);
    expect(await alive.command('still', 's', { type: 'session.cancel' })).toMatchObject({ ok: false, error: 'not-found' }); // agent-1 has no session s
  });

  it('a token that stops resolving (expired) closes its socket with 4401 at the next keep-alive', async () => {
    const { clock, client, tokens } = await setup();
    const c = client();
    await c.auth('a2');
    tokens.delete('a2');
    clock.advance(30_000);
    expect((await c.closed).code).toBe(4401);
  });

  it('a client that reads too slowly is closed with 1013', async () => {
    const { bus, client, logs, hub } = await setup({ maxBufferedBytes: 64 * 1024 });
    const slow = client();
    await slow.auth('sup');
    const sock = (slow.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket; // ws keeps its net.Socket here
    sock.pause(); // stop reading: the kernel buffers fill, then the server's queue grows
    const big: Unsequenced<SessionEvent> = { type: 'prompt.playing', sessionId: 'p', agentId: null, at: new Date().toISOString(), prompts: Array.from({ length: 200 }, () => 'greeting.secure') };
    const tooSlow = () => logs.messages().includes('events socket reads too slowly: closing');
    let published = 0;
    while (!tooSlow()) {
      await bus.publish(big);
      if (++published % 100 === 0) await new Promise((r) => setTimeout(r, 5)); // let the socket move what it can
    }
    // The server stopped sending: these never reach the client. Once the client reads its backlog,
    // the close frame follows it.
    for (let i = 0; i < 10; i++) await bus.publish(big);
    published += 10;
    sock.resume();
    expect((await slow.closed).code).toBe(1013);
    const got = slow.frames.filter((f) => f.type === 'prompt.playing').map((f) => f.seq);
    expect(got).toEqual(got.map((_, i) => i + 1)); // what it got was in order, without gaps
    expect(got.length).toBe(published - 10);
    while (hub.connections > 0) await new Promise((r) => setTimeout(r, 10));
  });
});
