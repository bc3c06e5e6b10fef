import { describe, expect, it } from 'vitest';
import { maySee, parseClientMessage, principalJson, isEventsPrincipal, MAX_RESUME_ENTRIES } from '../../../src/api/events-protocol.js';

describe('/events client messages', () => {
  it.each([
    ['not JSON', '{"type":', { kind: 'error', error: 'bad-json' }],
    ['a JSON array', '[1,2]', { kind: 'error', error: 'invalid' }],
    ['a JSON string', '"auth"', { kind: 'error', error: 'invalid' }],
    ['null', 'null', { kind: 'error', error: 'invalid' }],
    ['no type', '{"token":"x"}', { kind: 'error', error: 'unknown-type' }],
    ['an unknown type', '{"type":"subscribe"}', { kind: 'error', error: 'unknown-type' }],
    ['auth without a token', '{"type":"auth"}', { kind: 'error', error: 'invalid' }],
    ['auth with an extra key', '{"type":"auth","token":"t","x":1}', { kind: 'error', error: 'invalid' }],
    ['auth with a negative resume seq', '{"type":"auth","token":"t","resume":{"s1":-1}}', { kind: 'error', error: 'invalid' }],
    ['auth with a fractional resume seq', '{"type":"auth","token":"t","resume":{"s1":1.5}}', { kind: 'error', error: 'invalid' }],
    ['auth with a malformed session id', '{"type":"auth","token":"t","resume":{"a b":1}}', { kind: 'error', error: 'invalid' }],
    ['a command without an id', '{"type":"command","sessionId":"s1","command":{"type":"session.cancel"}}', { kind: 'error', error: 'invalid' }],
    ['a command with an unknown command', '{"type":"command","id":"c1","sessionId":"s1","command":{"type":"session.pay"}}', { kind: 'bad-command', id: 'c1' }],
    ['a retry of an unknown field', '{"type":"command","id":"c2","sessionId":"s1","command":{"type":"field.retry","field":"pin"}}', { kind: 'bad-command', id: 'c2' }],
    ['a command with an extra key', '{"type":"command","id":"c3","sessionId":"s1","command":{"type":"session.cancel"},"x":1}', { kind: 'bad-command', id: 'c3' }],
    ['a command without a session', '{"type":"command","id":"c4","command":{"type":"session.cancel"}}', { kind: 'bad-command', id: 'c4' }],
  ])('%s is refused', (_name, text, expected) => {
    expect(parseClientMessage(text)).toMatchObject(expected);
  });

  it('auth with a resume map is accepted as sent', () => {
    expect(parseClientMessage('{"type":"auth","token":"abc","resume":{"s-1":4,"s_2":0}}')).toEqual({
      kind: 'auth',
      msg: { type: 'auth', token: 'abc', resume: { 's-1': 4, s_2: 0 } },
    });
  });

  it(`auth with more than ${MAX_RESUME_ENTRIES} resume entries is refused`, () => {
    const resume = Object.fromEntries(Array.from({ length: MAX_RESUME_ENTRIES + 1 }, (_, i) => [`s${i}`, 1]));
    expect(parseClientMessage(JSON.stringify({ type: 'auth', token: 't', resume }))).toMatchObject({ kind: 'error', error: 'invalid' });
  });

  it('field.retry and session.cancel commands are parsed', () => {
    expect(parseClientMessage('{"type":"command","id":"c1","sessionId":"s1","command":{"type":"field.retry","field":"cvv"}}')).toEqual({
      kind: 'command', id: 'c1', sessionId: 's1', command: { type: 'field.retry', field: 'cvv' },
    });
    expect(parseClientMessage('{"type":"command","id":"c2","sessionId":"s1","command":{"type":"session.cancel"}}')).toEqual({
      kind: 'command', id: 'c2', sessionId: 's1', command: { type: 'session.cancel' },
    });
  });

  it('an error message never repeats what the client sent (it could be card digits)', () => {
    const digits = '4111111111111111';
    for (const text of [
      `{"type":"${digits}"}`,
      `{"type":"auth","token":"t","resume":{"${digits}":"${digits}"}}`,
      `{"type":"command","id":"c1","sessionId":"${digits}x y","command":{"type":"field.retry","field":"${digits}"}}`,
      `{"type":"command","id":"c1","sessionId":"s","command":{"pan":"${digits}"}}`,
      `${digits}}`,
    ]) {
      const m = parseClientMessage(text);
      expect(m.kind === 'error' || m.kind === 'bad-command').toBe(true);
      expect(JSON.stringify(m)).not.toContain('41111111');
    }
  });
});

describe('/events authorization', () => {
  const agent1 = { kind: 'agent', agentId: 'agent-1' } as const;
  const sup = { kind: 'supervisor' } as const;
  it.each([
    ['an agent sees its own session', agent1, 'agent-1', true],
    ["an agent does not see another agent's session", agent1, 'agent-2', false],
    ['an agent does not see a session without an agent', agent1, null, false],
    ['an agent does not see a session whose agent is unknown', agent1, undefined, false],
    ['a supervisor sees any session', sup, 'agent-2', true],
    ['a supervisor sees a session without an agent', sup, null, true],
  ] as const)('%s', (_n, p, owner, expected) => {
    expect(maySee(p, owner)).toBe(expected);
  });

  it('only supervisor and agent tokens may open the socket', () => {
    expect(isEventsPrincipal({ kind: 'supervisor' })).toBe(true);
    expect(isEventsPrincipal({ kind: 'agent', agentId: 'a' })).toBe(true);
    expect(isEventsPrincipal({ kind: 'handoff-client' })).toBe(false);
    expect(isEventsPrincipal(undefined)).toBe(false);
  });

  it('the principal in ready carries the kind and the agent id only', () => {
    expect(principalJson(agent1)).toEqual({ kind: 'agent', agentId: 'agent-1' });
    expect(principalJson(sup)).toEqual({ kind: 'supervisor' });
  });
});
