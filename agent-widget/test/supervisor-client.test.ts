import { describe, expect, it } from 'vitest';
import { MAX_RESUME, ProgressClient, type SocketLike } from '../src/progress/client.js';

/** A socket the test drives: what the client sent, and server frames pushed in by hand. */
class FakeSocket implements SocketLike {
  onopen: ((ev: Event) => void) | null = null;
  onmessage: ((ev: MessageEvent) => void) | null = null;
  onclose: ((ev: CloseEvent) => void) | null = null;
  onerror: ((ev: Event) => void) | null = null;
  readyState = 0;
  readonly sent: string[] = [];
  send(data: string): void {
    this.sent.push(data);
  }
  close(): void {
    this.readyState = 3;
  }
  open(): void {
    this.readyState = 1;
    this.onopen?.({} as Event);
  }
  push(m: unknown): void {
    this.onmessage?.({ data: JSON.stringify(m) } as MessageEvent);
  }
  drop(code = 1006): void {
    this.readyState = 3;
    this.onclose?.({ code } as CloseEvent);
  }
}

function setup() {
  const sockets: FakeSocket[] = [];
  const timers: (() => void)[] = [];
  const client = new ProgressClient({
    url: 'ws://gw/events',
    token: 'sup',
    socket: () => {
      const s = new FakeSocket();
      sockets.push(s);
      return s;
    },
    setTimer: (fn) => timers.push(fn),
    clearTimer: () => undefined,
    random: () => 0,
  });
  return { client, sockets, timers };
}

const ev = (sessionId: string, seq: number) => ({ type: 'digit.entered', sessionId, seq, at: '2025-06-15T10:00:00.000Z', field: 'pan', count: 1 });

describe('events client as the supervisor dashboard uses it', () => {
  it('passes the principal of ready on, and reconnects resuming from the last seq of each session', () => {
    const { client, sockets, timers } = setup();
    const principals: unknown[] = [];
    client.on('ready', (r) => principals.push(r.principal));
    client.start();
    sockets[0]!.open();
    expect(JSON.parse(sockets[0]!.sent[0]!)).toEqual({ type: 'auth', token: 'sup' });
    sockets[0]!.push({ type: 'ready', principal: { kind: 'supervisor' }, sessions: [] });
    sockets[0]!.push(ev('a', 1));
    sockets[0]!.push(ev('b', 1));
    sockets[0]!.push(ev('a', 2));
    sockets[0]!.drop();
    timers.shift()!();
    sockets[1]!.open();
    expect(JSON.parse(sockets[1]!.sent[0]!)).toEqual({ type: 'auth', token: 'sup', resume: { a: 2, b: 1 } });
    expect(principals).toEqual([{ kind: 'supervisor' }]);
  });

  it(`resumes at most ${MAX_RESUME} sessions (what the gateway accepts), the ones heard from most recently`, () => {
    const { client, sockets, timers } = setup();
    client.start();
    sockets[0]!.open();
    sockets[0]!.push({ type: 'ready', principal: { kind: 'supervisor' }, sessions: [] });
    for (let i = 0; i < MAX_RESUME + 50; i++) sockets[0]!.push(ev(`s${i}`, 1));
    sockets[0]!.push(ev('s0', 2)); // the oldest session speaks again: it is recent now
    sockets[0]!.drop();
    timers.shift()!();
    sockets[1]!.open();
    const resume = (JSON.parse(sockets[1]!.sent[0]!) as { resume: Record<string, number> }).resume;
    expect(Object.keys(resume)).toHaveLength(MAX_RESUME);
    expect(resume.s0).toBe(2);
    expect(resume[`s${MAX_RESUME + 49}`]).toBe(1);
    expect(resume.s1).toBeUndefined();
  });

  it('with batch on, auth asks for batches and a batch frame gives its events in order, advancing the resume points', () => {
    const sockets: FakeSocket[] = [];
    const client = new ProgressClient({ url: 'ws://gw/events', token: 'sup', batch: true, socket: () => (sockets.push(new FakeSocket()), sockets.at(-1)!), setTimer: () => 0, clearTimer: () => undefined });
    const got: string[] = [];
    client.on('event', (e) => got.push(`${e.sessionId}:${e.seq}`));
    client.start();
    sockets[0]!.open();
    expect(JSON.parse(sockets[0]!.sent[0]!)).toEqual({ type: 'auth', token: 'sup', batch: true });
    sockets[0]!.push({ type: 'ready', principal: { kind: 'supervisor' }, sessions: [] });
    sockets[0]!.push({ type: 'batch', events: [ev('a', 1), ev('b', 1), ev('a', 2)] });
    sockets[0]!.push(ev('a', 3));
    sockets[0]!.push({ type: 'batch', events: [ev('a', 3), ev('b', 2)] }); // a:3 again (a resume overlap): applied once
    expect(got).toEqual(['a:1', 'b:1', 'a:2', 'a:3', 'b:2']);
    expect(client.resumePoints()).toEqual({ a: 3, b: 2 });
  });
});
