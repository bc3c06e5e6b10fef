import { describe, expect, it } from 'vitest';
import { RegistrarService, type RegisterRequestView } from '../../../src/calls/registrar-service.js';
import { Registrar } from '../../../src/calls/registrar/index.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { DigestAuthenticator, computeDigestResponse, type DigestAlgorithm } from '../../../src/sip/auth/index.js';
import { LOCK_AFTER, SignInLockout } from '../../../src/security/lockout.js';
import { FakeClock } from '../../support/fake-clock.js';

const RURI = 'sip:127.0.0.1:5060';

function setup(o: { strict?: boolean; algorithms?: DigestAlgorithm[] } = {}) {
  const clock = new FakeClock();
  const auth = new DigestAuthenticator({ realm: 'tonegate', clock, nonceTtlMs: 60_000 });
  const lockout = new SignInLockout({ now: () => clock.now() });
  const svc = new RegistrarService(new Registrar({ clock, logger: silentLogger }), {
    realm: 'tonegate', algorithms: o.algorithms ?? ['SHA-256', 'MD5'], passwordOf: (id) => (id === 'agent-1' ? 'demo' : undefined),
    authenticator: auth, logger: silentLogger, lockout, ...(o.strict ? { strict: true } : {}),
  });
  let cseq = 0;
  const register = (user: string, password: string, opts: { qop?: boolean; uri?: string; source?: string; algorithm?: DigestAlgorithm } = {}) => {
    const challenge = svc.handle(req(user, undefined, ++cseq), 'udp:x', { source: opts.source ?? '10.0.0.1', requestUri: RURI });
    const www = challenge.headers!.find((h) => h.includes(`algorithm=${opts.algorithm ?? 'MD5'}`)) ?? challenge.headers![0]!;
    const nonce = /nonce="([^"]+)"/.exec(www)![1]!;
    const opaque = /opaque="([^"]+)"/.exec(www)![1]!;
    const algorithm = opts.algorithm ?? 'MD5';
    const uri = opts.uri ?? RURI;
    const qop = opts.qop ?? true;
    const response = computeDigestResponse({ algorithm, username: user, realm: 'tonegate', password, method: 'REGISTER', uri, nonce, ...(qop ? { qop: 'auth' as const, nc: '00000001', cnonce: 'abc' } : {}) });
    const authz = `Digest username="${user}", realm="tonegate", nonce="${nonce}", uri="${uri}", response="${response}", algorithm=${algorithm}, opaque="${opaque}"${qop ? ', qop=auth, nc=00000001, cnonce="abc"' : ''}`;
    return svc.handle(req(user, authz, ++cseq), 'udp:x', { source: opts.source ?? '10.0.0.1', requestUri: RURI });
  };
  return { svc, lockout, register, clock };
}

function req(user: string, authz: string | undefined, cseq: number): RegisterRequestView {
  const h: Record<string, string> = { ...(authz ? { authorization: authz } : {}), contact: `<sip:${user}@10.0.0.1:5070>`, expires: '60' };
  return { callId: 'c1', cseq, to: { uri: { user } }, getHeader: (n) => h[n.toLowerCase()], getHeaders: (n) => (h[n.toLowerCase()] ? [h[n.toLowerCase()]!] : []) };
}

describe('REGISTER and the sign-in lockout (docs/security.md)', () => {
  it(`after ${LOCK_AFTER} wrong passwords from one source the right one is 403 there, until a supervisor unlocks`, () => {
    const { register, lockout } = setup();
    for (let i = 0; i < LOCK_AFTER; i++) expect(register('agent-1', `wrong-${i}`).status).toBe(403);
    expect(register('agent-1', 'demo').status).toBe(403);
    expect(register('agent-1', 'demo', { source: '10.0.0.2' }).status).toBe(200);
    lockout.unlock('agent-1');
    expect(register('agent-1', 'demo').status).toBe(200);
  });

  it('an unknown user is challenged, refused and locked exactly like a known one', () => {
    const { register, svc, lockout } = setup();
    expect(svc.handle(req('ghost', undefined, 1), 'udp:x', { source: '10.0.0.1', requestUri: RURI }).status).toBe(401);
    for (let i = 0; i < LOCK_AFTER; i++) expect(register('ghost', `p-${i}`).status).toBe(403);
    expect(lockout.isLocked('ghost', '10.0.0.1')).toBe(true);
  });

  it('production (strict): qop=auth is required and the digest uri must be the Request-URI', () => {
    const { register } = setup({ strict: true, algorithms: ['SHA-256'] });
    expect(register('agent-1', 'demo', { algorithm: 'SHA-256', qop: false }).status).toBe(403);
    expect(register('agent-1', 'demo', { algorithm: 'SHA-256', uri: 'sip:elsewhere.example' }).status).toBe(403);
    expect(register('agent-1', 'demo', { algorithm: 'SHA-256' }).status).toBe(200);
  });

  it(`production (strict): an MD5 answer to the SHA-256-only challenge is challenged again and counted; ${LOCK_AFTER} of them lock the source`, () => {
    const { register, lockout } = setup({ strict: true, algorithms: ['SHA-256'] });
    const first = register('agent-1', 'demo', { algorithm: 'MD5' }); // the right password, in MD5 (svcrack, old phones)
    expect(first.status).toBe(401);
    expect(first.headers).toEqual([expect.stringMatching(/algorithm=SHA-256/)]);
    expect(lockout.state('agent-1', '10.0.0.1')?.failures).toBe(1);
    for (let i = 1; i < LOCK_AFTER; i++) expect([401, 403]).toContain(register('agent-1', 'demo', { algorithm: 'MD5' }).status);
    expect(lockout.isLocked('agent-1', '10.0.0.1')).toBe(true);
    expect(register('agent-1', 'demo', { algorithm: 'SHA-256' }).status).toBe(403);
    expect(register('agent-1', 'demo', { algorithm: 'SHA-256', source: '10.0.0.2' }).status).toBe(200);
  });

  it('demo (not strict): an answer in an algorithm not offered is challenged again and not counted', () => {
    const { register, lockout } = setup({ algorithms: ['SHA-256'] });
    for (let i = 0; i < LOCK_AFTER + 2; i++) expect(register('agent-1', 'demo', { algorithm: 'MD5' }).status).toBe(401);
    expect(lockout.state('agent-1', '10.0.0.1')).toBeUndefined();
    expect(register('agent-1', 'demo', { algorithm: 'SHA-256' }).status).toBe(200);
  });

  it('demo (not strict): a digest without qop still registers', () => {
    const { register } = setup();
    expect(register('agent-1', 'demo', { qop: false }).status).toBe(200);
  });
});
