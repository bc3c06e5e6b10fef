import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { sessionEventSchema } from '../../../src/capture/event-schema.js';
import { SESSION_EVENT_TYPES } from '../../../src/contract/events.js';
import { flush, harness, toOtp } from './fakes.js';

const FIXTURES = new URL('../../../../agent-widget/test/fixtures/', import.meta.url);
const fixtures = readdirSync(FIXTURES).filter((f) => f.endsWith('.json'));

describe("the widget's recorded fixtures hold to the server's event schema", () => {
  it('there are fixtures to check', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(4);
  });

  it.each(fixtures)('%s: every event parses, seqs run from 1 without gaps', (name) => {
    const events = JSON.parse(readFileSync(new URL(name, FIXTURES), 'utf8')) as unknown[];
    expect(events.length).toBeGreaterThan(0);
    events.forEach((e, i) => {
      const r = sessionEventSchema.safeParse(e);
      expect(r.success ? 'ok' : `event ${i}: ${JSON.stringify(r.error.issues)}`).toBe('ok');
      expect((e as { seq: number }).seq).toBe(i + 1);
    });
  });
});

describe("the schema is the server's own: what a real capture publishes parses", () => {
  it('a paid capture (with a Luhn failure and a * clear on the way): every event parses and carries the agent', async () => {
    const h = harness();
    await h.session.start();
    await flush();
    await h.key('4111111111111112#');
    await h.key('41*4111111111111111#1230913');
    await h.key(h.payment.otp);
    await flush(20);
    expect(h.session.result?.outcome).toBe('paid');
    for (const e of h.events) expect(sessionEventSchema.safeParse(e).success ? e.type : JSON.stringify(e)).toBe(e.type);
    expect(new Set(h.events.map((e) => e.agentId))).toEqual(new Set(['agent-1']));
    expect(h.types()).toEqual(expect.arrayContaining(['session.started', 'field.failed', 'field.cleared', 'otp.sent', 'payment.processing', 'session.ended']));
  });

  it('an agent cancel: every event parses', async () => {
    const h = harness();
    await toOtp(h);
    expect(h.session.onAgentCommand({ type: 'session.cancel' })).toEqual({ ok: true });
    await flush(20);
    for (const e of h.events) expect(sessionEventSchema.safeParse(e).success ? e.type : JSON.stringify(e)).toBe(e.type);
  });
});

describe('the schema refuses what the contract does not allow', () => {
  const good = { type: 'digit.entered', sessionId: 's', agentId: 'agent-1', seq: 1, at: '2025-06-15T10:00:00.000Z', field: 'pan', count: 1 };

  it('the sample parses', () => {
    expect(sessionEventSchema.safeParse(good).success).toBe(true);
  });

  it.each([
    ['an extra field (a stray digit)', { ...good, digit: '4' }],
    ['no agentId', (({ agentId: _a, ...rest }) => rest)(good)],
    ['seq 0', { ...good, seq: 0 }],
    ['an unknown field name', { ...good, field: 'pin' }],
    ['an unknown type', { ...good, type: 'digit.typed' }],
  ])('refuses %s', (_why, e) => {
    expect(sessionEventSchema.safeParse(e).success).toBe(false);
  });

  it('has a branch for every event type of the contract', () => {
    for (const type of SESSION_EVENT_TYPES) expect(sessionEventSchema.optionsMap.has(type)).toBe(true);
  });
});
