import { describe, expect, it, vi } from 'vitest';
import { Registrar, parseContacts, type ContactBinding, type ContactRequest } from '../../../../src/calls/registrar/index.js';
import { RegistrarLimits } from '../../../../src/sip/constants.js';
import { FakeClock } from '../../../support/fake-clock.js';

const { MIN_EXPIRES, MAX_EXPIRES, DEFAULT_EXPIRES } = RegistrarLimits;

function setup(opts: { maxBindingsPerAor?: number } = {}) {
  const clock = new FakeClock();
  const logger = { warn: vi.fn() };
  const reg = new Registrar({
    clock, minExpires: MIN_EXPIRES, maxExpires: MAX_EXPIRES, defaultExpires: DEFAULT_EXPIRES, logger, ...opts,
  });
  const changes: Array<[string, string[]]> = [];
  reg.onChange((aor, b) => changes.push([aor, b.map((x) => x.uri)]));
  return { clock, reg, changes, logger };
}

function contacts(...values: string[]): ContactRequest[] {
  const r = parseContacts(values);
  if (!Array.isArray(r)) throw new Error(`bad test contact: ${JSON.stringify(r)}`);
  return r;
}

describe('Registrar.register: expiry selection (RFC 3261 10.3 step 6)', () => {
  const table: Array<[string, string, number | undefined, number | { status: number }]> = [
    ['contact expires param wins over the Expires header', '<sip:a@h>;expires=120', 600, 120],
    ['Expires header when there is no param', '<sip:a@h>', 600, 600],
    ['default when neither is present', '<sip:a@h>', undefined, DEFAULT_EXPIRES],
    ['above max is clamped to max', '<sip:a@h>;expires=999999', undefined, MAX_EXPIRES],
    ['exactly min is accepted', `<sip:a@h>;expires=${MIN_EXPIRES}`, undefined, MIN_EXPIRES],
    ['below min is 423', '<sip:a@h>;expires=30', undefined, { status: 423 }],
    ['below min via the Expires header is 423', '<sip:a@h>', 1, { status: 423 }],
    ['a malformed Expires header counts as 3600 (RFC 3261 20.19)', '<sip:a@h>', Number.NaN, 3600],
    ['a malformed expires param counts as 3600', '<sip:a@h>;expires=x', 30, 3600],
  ];
  it.each(table)('%s', (_n, contact, header, expected) => {
    const { reg } = setup();
    const r = reg.register('agent-1', contacts(contact), header, 'c1', 1, 'flow-1');
    if (typeof expected === 'number') {
      expect(r).toMatchObject({ status: 200, bindings: [{ uri: 'sip:a@h', expires: expected }] });
    } else {
      expect(r).toEqual({ status: 423, reason: 'Interval Too Brief', minExpires: MIN_EXPIRES });
      expect(reg.isRegistered('agent-1')).toBe(false);
    }
  });

  it('one too-brief contact fails the whole request with 423', () => {
    const { reg } = setup();
    expect(reg.register('agent-1', contacts('<sip:a@h>', '<sip:b@h>;expires=5'), 600, 'c1', 1, 'f')).toMatchObject({ status: 423 });
    expect(reg.bindings('agent-1')).toEqual([]);
  });
});

describe('Registrar.register: bindings (RFC 3261 10.3 steps 7-8)', () => {
  it('stores the binding with its flow, Call-ID, CSeq, params (minus expires) and instance', () => {
    const { reg, clock } = setup();
    clock.advance(1000);
    const c = contacts('<sip:k@x.invalid;transport=ws>;expires=300;+sip.instance="<urn:uuid:1>";q=0.5');
    reg.register('agent-1', c, undefined, 'c1', 7, 'ws-3');
    expect(reg.bindings('agent-1')).toEqual<ContactBinding[]>([{
      uri: 'sip:k@x.invalid;transport=ws', params: { '+sip.instance': '"<urn:uuid:1>"', q: '0.5' },
      flowId: 'ws-3', expiresAt: 1000 + 300_000, callId: 'c1', cseq: 7, instance: '<urn:uuid:1>',
    }]);
  });

  it('a query (no Contact) returns the current bindings with their remaining expires', () => {
    const { reg, clock } = setup();
    reg.register('agent-1', contacts('<sip:a@h>;expires=600'), undefined, 'c1', 1, 'f');
    clock.advance(100_500);
    expect(reg.register('agent-1', [], undefined, 'c2', 1, 'f')).toMatchObject({ status: 200, bindings: [{ uri: 'sip:a@h', expires: 500 }] });
    expect(reg.contacts('agent-1')).toMatchObject([{ expires: 500 }]);
  });

  it('refresh from the same Call-ID with a higher CSeq updates the expiry', () => {
    const { reg, clock, changes } = setup();
    reg.register('agent-1', contacts('<sip:a@h>'), 120, 'c1', 1, 'f');
    clock.advance(100_000);
    expect(reg.register('agent-1', contacts('<sip:a@h>'), 120, 'c1', 2, 'f')).toMatchObject({ bindings: [{ expires: 120 }] });
    expect(changes).toEqual([['agent-1', ['sip:a@h']]]); // a refresh is not a change
  });

  it.each([['equal', 5], ['lower', 4]])('same Call-ID with an %s CSeq is 500 and changes nothing', (_n, cseq) => {
    const { reg } = setup();
    reg.register('agent-1', contacts('<sip:a@h>'), 120, 'c1', 5, 'f');
    expect(reg.register('agent-1', contacts('<sip:b@h>', '<sip:a@h>;expires=0'), 120, 'c1', cseq, 'f')).toMatchObject({ status: 500 });
    expect(reg.bindings('agent-1').map((b) => b.uri)).toEqual(['sip:a@h']);
  });

  it('a different Call-ID may update a binding whatever its CSeq', () => {
    const { reg } = setup();
    reg.register('agent-1', contacts('<sip:a@h>'), 120, 'c1', 5, 'f');
    expect(reg.register('agent-1', contacts('<sip:a@h>'), 600, 'c2', 1, 'f')).toMatchObject({ status: 200, bindings: [{ expires: 600, callId: 'c2' }] });
  });

  it('expires=0 removes one binding and leaves the others', () => {
    const { reg, changes } = setup();
    reg.register('agent-1', contacts('<sip:a@h>', '<sip:b@h>'), 120, 'c1', 1, 'f');
    expect(reg.register('agent-1', contacts('<sip:a@h>;expires=0'), undefined, 'c1', 2, 'f')).toMatchObject({ bindings: [{ uri: 'sip:b@h' }] });
    expect(changes.at(-1)).toEqual(['agent-1', ['sip:b@h']]);
  });

  it('the binding is found by URI with a case-insensitive scheme and host', () => {
    const { reg } = setup();
    reg.register('agent-1', contacts('<sip:Agent@Host.Example>'), 120, 'c1', 1, 'f');
    reg.register('agent-1', contacts('<SIP:Agent@host.example>'), 0, 'c1', 2, 'f');
    expect(reg.isRegistered('agent-1')).toBe(false);
  });

  it('a new Contact URI with the same +sip.instance replaces the binding and moves the flow (RFC 5626)', () => {
    const { reg, changes } = setup();
    reg.register('agent-1', contacts('<sip:old@x.invalid;transport=ws>;+sip.instance="<urn:uuid:9>"'), 600, 'c1', 1, 'ws-1');
    reg.register('agent-1', contacts('<sip:new@x.invalid;transport=ws>;+sip.instance="<urn:uuid:9>"'), 600, 'c2', 1, 'ws-2');
    expect(reg.bindings('agent-1')).toMatchObject([{ uri: 'sip:new@x.invalid;transport=ws', flowId: 'ws-2' }]);
    expect(changes.map(([, u]) => u)).toEqual([['sip:old@x.invalid;transport=ws'], ['sip:new@x.invalid;transport=ws']]);
  });

  it('keeps at most maxBindingsPerAor, dropping the longest-standing', () => {
    const { reg } = setup({ maxBindingsPerAor: 2 });
    for (const [i, u] of ['a', 'b', 'c'].entries()) reg.register('agent-1', contacts(`<sip:${u}@h>`), 600, `c${u}`, i + 1, 'f');
    expect(reg.bindings('agent-1').map((b) => b.uri)).toEqual(['sip:b@h', 'sip:c@h']);
  });
});

describe('Registrar.register with Contact: * (RFC 3261 10.3 step 6)', () => {
  const table: Array<[string, number | undefined, number, string, number]> = [
    ['Expires: 0 removes every binding', 0, 200, 'c9', 1],
    ['Expires other than 0 is 400', 60, 400, 'c9', 1],
    ['no Expires header is 400', undefined, 400, 'c9', 1],
    ['same Call-ID and a CSeq not higher is 500', 0, 500, 'c1', 3],
    ['same Call-ID and a higher CSeq removes', 0, 200, 'c1', 4],
  ];
  it.each(table)('%s', (_n, expires, status, callId, cseq) => {
    const { reg, changes } = setup();
    reg.register('agent-1', contacts('<sip:a@h>', '<sip:b@h>'), 600, 'c1', 3, 'f');
    expect(reg.register('agent-1', '*', expires, callId, cseq, 'f')).toMatchObject({ status });
    expect(reg.isRegistered('agent-1')).toBe(status !== 200);
    expect(changes.at(-1)).toEqual(['agent-1', status === 200 ? [] : ['sip:a@h', 'sip:b@h']]);
  });
});

describe('Registrar lookup, expiry and flows', () => {
  it('bindings lapse on the clock; lookups drop them lazily and tell listeners', () => {
    const { reg, clock, changes } = setup();
    reg.register('agent-1', contacts('<sip:a@h>'), 60, 'c1', 1, 'f');
    reg.register('agent-2', contacts('<sip:b@h>'), 120, 'c2', 1, 'f');
    clock.advance(59_999);
    expect(reg.registeredAors()).toEqual(['agent-1', 'agent-2']);
    clock.advance(1);
    expect(reg.isRegistered('agent-1')).toBe(false);
    expect(changes.at(-1)).toEqual(['agent-1', []]);
    expect(reg.registeredAors()).toEqual(['agent-2']);
  });

  it('sweep() drops every expired binding and reports how many', () => {
    const { reg, clock, changes } = setup();
    reg.register('agent-1', contacts('<sip:a@h>', '<sip:b@h>;expires=600'), 60, 'c1', 1, 'f');
    reg.register('agent-2', contacts('<sip:c@h>'), 60, 'c2', 1, 'f');
    clock.advance(60_000);
    expect(reg.sweep()).toBe(2);
    expect(reg.sweep()).toBe(0);
    expect(changes.slice(-2)).toEqual([['agent-1', ['sip:b@h']], ['agent-2', []]]);
  });

  it('removeFlow drops the bindings of a closed connection only', () => {
    const { reg } = setup();
    reg.register('agent-1', contacts('<sip:a@h>'), 600, 'c1', 1, 'ws-1');
    reg.register('agent-1', contacts('<sip:b@h>'), 600, 'c2', 1, 'udp:1.2.3.4:5060');
    reg.register('agent-2', contacts('<sip:c@h>'), 600, 'c3', 1, 'ws-1');
    expect(reg.removeFlow('ws-1')).toBe(2);
    expect(reg.registeredAors()).toEqual(['agent-1']);
    expect(reg.bindings('agent-1').map((b) => b.flowId)).toEqual(['udp:1.2.3.4:5060']);
    expect(reg.removeFlow('ws-1')).toBe(0);
  });

  it('an unknown AOR has no bindings', () => {
    const { reg } = setup();
    expect(reg.bindings('nobody')).toEqual([]);
    expect(reg.isRegistered('nobody')).toBe(false);
  });

  it("a listener's exception is logged and does not break registration; unsubscribe works", () => {
    const { reg, logger } = setup();
    const off = reg.onChange(() => {
      throw new Error('boom');
    });
    expect(reg.register('agent-1', contacts('<sip:a@h>'), 600, 'c1', 1, 'f')).toMatchObject({ status: 200 });
    expect(logger.warn).toHaveBeenCalledTimes(1);
    off();
    reg.register('agent-1', contacts('<sip:a@h>'), 0, 'c1', 2, 'f');
    expect(logger.warn).toHaveBeenCalledTimes(1);
  });

  it('refuses inconsistent limits', () => {
    expect(() => new Registrar({ clock: new FakeClock(), minExpires: 100, defaultExpires: 50 })).toThrow(RangeError);
  });
});
