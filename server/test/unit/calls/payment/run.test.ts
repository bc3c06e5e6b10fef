import { describe, expect, it } from 'vitest';
import { CaptureRegistry } from '../../../../src/calls/payment/capture-registry.js';
import { PaymentRun, type RunDeps, type RunEnding } from '../../../../src/calls/payment/run.js';
import { RunState } from '../../../../src/calls/payment/run-state.js';
import type { SessionEvent } from '../../../../src/capture/events.js';
import { silentLogger } from '../../../../src/observability/logger.js';
import { MemoryEventBus, MemorySessionStore, type Outcome } from '../../../../src/store/index.js';
import { FakeClock } from '../../../support/fake-clock.js';
import { FakePayments, FakeSms, flush, OTP_TEMPLATE, TXN } from '../../capture/fakes.js';
import { FakeBridge } from './fake-bridge.js';

class RecordingEnding implements RunEnding {
  ends: Outcome[] = [];
  aborts: string[] = [];
  end(outcome: Outcome): void {
    this.ends.push(outcome);
  }
  abort(why: string): void {
    this.aborts.push(why);
  }
}

function setup(o: { store?: MemorySessionStore } = {}) {
  const clock = new FakeClock();
  const store = o.store ?? new MemorySessionStore({ clock });
  const bus = new MemoryEventBus<SessionEvent>({ clock });
  const events: SessionEvent[] = [];
  void bus.subscribe((e) => events.push(e));
  const payment = new FakePayments();
  const deps: RunDeps = {
    payments: { payment: payment as unknown as RunDeps['payments']['payment'], sms: new FakeSms() as unknown as RunDeps['payments']['sms'], otpTemplate: OTP_TEMPLATE, receiptTemplate: undefined },
    bus, store, clock, logger: silentLogger, instanceId: 'test', defaultLanguage: 'en',
  };
  const bridge = new FakeBridge();
  const ending = new RecordingEnding();
  const captures = new CaptureRegistry();
  const run = new PaymentRun(deps, { bridge: bridge.asBridge(), customerLeg: 'customer', txn: TXN, ending, log: silentLogger, captures });
  const entered = () => events.filter((e) => e.type === 'digit.entered').length;
  return { run, bridge, ending, captures, store, events, entered, payment };
}

/** Starts the run and lets the greeting play out: the card-number prompt is playing. */
async function atCardPrompt(s: ReturnType<typeof setup>) {
  s.run.start();
  await flush();
  s.bridge.plays[0]!.end('done');
  await flush();
  expect(s.bridge.plays).toHaveLength(2);
}

describe('PaymentRun: digits by role, straight from the bridge', () => {
  it("only the customer's keys enter the capture: the agent's keypad never enters card data", async () => {
    const s = setup();
    await atCardPrompt(s);
    for (const d of '4111') s.bridge.key(d, { role: 'agent' });
    await flush();
    expect(s.entered()).toBe(0);
    for (const d of '4111') s.bridge.key(d);
    await flush();
    expect(s.entered()).toBe(4);
    await s.run.close();
  });

  it('prompts play to the customer leg, with barge-in as capture asks', async () => {
    const s = setup();
    await atCardPrompt(s);
    expect(s.bridge.plays.map((p) => [p.leg, p.bargeIn])).toEqual([['customer', true], ['customer', true]]);
    expect(s.bridge.plays[1]!.clips[0]).toBe('en/enter.pan');
    expect(s.bridge.modes).toEqual(['capture']);
    await s.run.close();
  });
});

describe('PaymentRun: the worker alone decides barge-in', () => {
  it('a digit the worker barged in on sends no stop command down', async () => {
    const s = setup();
    await atCardPrompt(s);
    s.bridge.key('4', { barged: true });
    await flush();
    expect(s.entered()).toBe(1);
    expect(s.bridge.stops).toEqual([]);
    await s.run.close();
  });

  it('a digit the worker did not barge in on (it crossed the play request, or came by SIP INFO) stops the prompt still playing', async () => {
    const s = setup();
    await atCardPrompt(s);
    s.bridge.key('4');
    await flush();
    expect(s.bridge.stops).toEqual(['customer']);
    await s.run.close();
  });

  it('a prompt that already ended is not stopped again', async () => {
    const s = setup();
    await atCardPrompt(s);
    s.bridge.plays[1]!.end('done');
    await flush();
    s.bridge.key('4');
    await flush();
    expect(s.bridge.stops).toEqual([]);
    await s.run.close();
  });
});

describe('PaymentRun lifecycle: start / kill / done', () => {
  it('the outcome runs the end-of-run strategy once, then the run closes and leaves the registry', async () => {
    const s = setup();
    await atCardPrompt(s);
    expect(s.captures.size).toBe(1);
    expect(s.run.state).toBe(RunState.Running);
    s.bridge.key('*', { role: 'customer' });
    // The agent cancels: the outcome prompt plays, then the strategy runs.
    expect(s.captures.command(s.run.session.id, { type: 'session.cancel' })).toEqual({ ok: true });
    await flush();
    s.bridge.plays.at(-1)!.end('done');
    await s.run.done;
    expect(s.ending.ends).toEqual(['cancelled']);
    expect(s.ending.aborts).toEqual([]);
    expect(s.run.state).toBe(RunState.Closed);
    expect(s.captures.size).toBe(0);
    expect(s.bridge.modes).toEqual(['capture', 'normal']);
  });

  it('kill: the capture records the customer gone and no strategy runs; a second kill changes nothing', async () => {
    const s = setup();
    await atCardPrompt(s);
    s.run.kill('customer hung up');
    s.run.kill('again');
    await s.run.done;
    expect(s.ending.ends).toEqual([]);
    expect(s.run.state).toBe(RunState.Closed);
    expect((await s.store.list())[0]).toMatchObject({ outcome: 'abandoned', failureReason: 'customer-hung-up' });
    expect(s.captures.size).toBe(0);
  });

  it('a run killed before it started just closes: no capture record, no strategy', async () => {
    const s = setup();
    s.run.kill('caller gone');
    await s.run.done;
    expect(s.run.state).toBe(RunState.Closed);
    expect(await s.store.list()).toEqual([]);
    expect(s.ending.ends).toEqual([]);
    expect(s.bridge.plays).toEqual([]);
  });

  it('digits after the run closed are not taken', async () => {
    const s = setup();
    await atCardPrompt(s);
    await s.run.close();
    s.bridge.key('4');
    await flush();
    expect(s.entered()).toBe(0);
  });

  it('a bridge that cannot mute the agent aborts the run (never leave the agent able to hear a card)', async () => {
    const s = setup();
    s.bridge.failMode = 'capture';
    s.run.start();
    await flush();
    expect(s.ending.aborts).toEqual(['mute-failed']);
    await s.run.close();
  });

  it('a capture that cannot start aborts the run with start-failed and closes it', async () => {
    const clock = new FakeClock();
    const store = new MemorySessionStore({ clock });
    store.create = () => Promise.reject(new Error('store down'));
    const s = setup({ store });
    s.run.start();
    await s.run.done;
    expect(s.ending.aborts).toEqual(['start-failed']);
    expect(s.run.state).toBe(RunState.Closed);
  });
});
