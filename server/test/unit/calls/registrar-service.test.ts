import { describe, expect, it } from 'vitest';
import { Registrar } from '../../../src/calls/registrar/index.js';
import { RegistrarService, type RegisterRequestView } from '../../../src/calls/registrar-service.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { DigestAuthenticator, computeDigestResponse, parseAuthParams, type DigestAlgorithm } from '../../../src/sip/auth/index.js';
import { RegistrarLimits } from '../../../src/sip/constants.js';
import { FakeClock } from '../../support/fake-clock.js';

const REALM = 'tonegate';

function service(algorithms: DigestAlgorithm[] | undefined) {
  const clock = new FakeClock();
  const authenticator = new DigestAuthenticator({ realm: REALM, clock, nonceTtlMs: RegistrarLimits.NONCE_TTL_MS });
  return new RegistrarService(new Registrar({ clock }), {
    realm: REALM, algorithms, passwordOf: (id) => (id === 'agent-1' ? 'demo' : undefined), authenticator, logger: silentLogger,
  });
}

let cseq = 1;
function request(authorization?: string, expires = '300'): RegisterRequestView {
  const headers: Record<string, string> = { contact: '<sip:agent-1@127.0.0.1:5070>', expires };
  if (authorization) headers['authorization'] = authorization;
  return {
    callId: 'reg-1', cseq: cseq++, to: { uri: { user: 'agent-1' } },
    getHeader: (n) => headers[n.toLowerCase()],
    getHeaders: (n) => (headers[n.toLowerCase()] ? [headers[n.toLowerCase()]!] : []),
  };
}

function offered(reply: { headers?: string[] }): { algorithm: string; nonce: string; opaque: string }[] {
  return (reply.headers ?? []).map((h) => {
    const p = parseAuthParams(h.replace(/^WWW-Authenticate:\s*/i, ''));
    if ('error' in p) throw new Error(p.error);
    return { algorithm: p.params.get('algorithm')!, nonce: p.params.get('nonce')!, opaque: p.params.get('opaque')! };
  });
}

/** Credentials for `challenge`, with the algorithm token spelt as `spelling` (case as a phone sends it). */
function credentials(challenge: { algorithm: string; nonce: string; opaque: string }, spelling: string | null, password = 'demo'): string {
  const algorithm = challenge.algorithm as DigestAlgorithm;
  const uri = 'sip:127.0.0.1';
  const response = computeDigestResponse({ algorithm, username: 'agent-1', realm: REALM, password, method: 'REGISTER', uri, nonce: challenge.nonce, qop: 'auth', nc: '00000001', cnonce: 'abc123' });
  return `Digest username="agent-1", realm="${REALM}", nonce="${challenge.nonce}", uri="${uri}", response="${response}", ` +
    `opaque="${challenge.opaque}", qop=auth, nc=00000001, cnonce="abc123"` + (spelling === null ? '' : `, algorithm=${spelling}`);
}

describe('REGISTER challenges honour SIP_DIGEST_ALGORITHMS order (RFC 8760 2.4)', () => {
  it.each([
    [['MD5', 'SHA-256'], 'udp:127.0.0.1:5070', ['MD5', 'SHA-256']],
    [['MD5', 'SHA-256'], 'ws:1', ['MD5', 'SHA-256']],
    [['SHA-256', 'MD5'], 'udp:127.0.0.1:5070', ['SHA-256', 'MD5']],
    [['SHA-256'], 'tcp:4', ['SHA-256']],
  ] as const)('configured %j on %s: challenges in exactly that order', (algs, flow, expected) => {
    const r = service([...algs]).handle(request(), flow);
    expect(r.status).toBe(401);
    expect(offered(r).map((o) => o.algorithm)).toEqual(expected);
  });

  it.each([
    ['udp:127.0.0.1:5070', ['MD5']],
    ['tcp:3', ['MD5']],
    ['ws:2', ['SHA-256', 'MD5']],
    ['wss:2', ['SHA-256', 'MD5']],
  ] as const)('unset: a phone on %s is offered %j', (flow, expected) => {
    expect(offered(service(undefined).handle(request(), flow)).map((o) => o.algorithm)).toEqual(expected);
  });
});

describe('the digest algorithm token is case-insensitive (RFC 7616 3.3, RFC 3261 25.1)', () => {
  it.each(['md5', 'Md5', 'MD5'])('algorithm=%s registers', (spelling) => {
    const s = service(['MD5']);
    const [c] = offered(s.handle(request(), 'udp:127.0.0.1:5070'));
    expect(s.handle(request(credentials(c!, spelling)), 'udp:127.0.0.1:5070').status).toBe(200);
  });

  it('algorithm=sha-256 registers over WebSocket', () => {
    const s = service(undefined);
    const c = offered(s.handle(request(), 'ws:9')).find((o) => o.algorithm === 'SHA-256')!;
    expect(s.handle(request(credentials(c, 'sha-256')), 'ws:9').status).toBe(200);
  });

  it('a wrong password in lower-case md5 is still refused 403', () => {
    const s = service(['MD5']);
    const [c] = offered(s.handle(request(), 'udp:127.0.0.1:5070'));
    expect(s.handle(request(credentials(c!, 'md5', 'wrong')), 'udp:127.0.0.1:5070').status).toBe(403);
  });

  it('credentials in an algorithm this flow was not offered are challenged again, not verified', () => {
    const s = service(['SHA-256']);
    const [c] = offered(s.handle(request(), 'udp:127.0.0.1:5070'));
    // MD5 by omission (RFC 2617 3.2.1) where only SHA-256 is offered.
    const md5 = { ...c!, algorithm: 'MD5' };
    const r = s.handle(request(credentials(md5, null)), 'udp:127.0.0.1:5070');
    expect(r.status).toBe(401);
    expect(offered(r).map((o) => o.algorithm)).toEqual(['SHA-256']);
  });
});

describe('a nonce-count already used (RFC 7616 3.4) is challenged again, never accepted', () => {
  it.each([
    ['a refresh', '300'],
    ['an unregister', '0'],
  ] as const)('%s re-sending the last Authorization (sip.js does) gets 401 stale=TRUE, and the fresh nonce is taken', (_name, expires) => {
    const s = service(['MD5']);
    const [c] = offered(s.handle(request(), 'ws:5'));
    const authz = credentials(c!, 'MD5');
    expect(s.handle(request(authz), 'ws:5').status).toBe(200);
    const r = s.handle(request(authz, expires), 'ws:5');
    expect(r.status).toBe(401);
    expect(r.headers?.every((h) => /stale=TRUE/.test(h))).toBe(true);
    expect(s.registrar.bindings('agent-1')).toHaveLength(1); // the replay changed nothing
    const [fresh] = offered(r);
    expect(fresh!.nonce).not.toBe(c!.nonce);
    expect(s.handle(request(credentials(fresh!, 'MD5'), expires), 'ws:5').status).toBe(200);
    expect(s.registrar.bindings('agent-1')).toHaveLength(expires === '0' ? 0 : 1);
  });
});
