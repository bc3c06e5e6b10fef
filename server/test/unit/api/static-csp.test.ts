import { describe, expect, it } from 'vitest';
import { contentSecurityPolicy } from '../../../src/api/static.js';

const connectSrc = (csp: string): string | undefined => /connect-src ([^;]+)/.exec(csp)?.[1];

describe("pages' Content-Security-Policy connect-src: the gateway's own origin only", () => {
  it.each([
    ['HTTPS page', { host: 'gw.example.com:8443', secure: true }, "'self' wss://gw.example.com:8443"],
    ['plain HTTP page (demo)', { host: '127.0.0.1:8080', secure: false }, "'self' ws://127.0.0.1:8080"],
    ['IPv6 host', { host: '[::1]:8443', secure: true }, "'self' wss://[::1]:8443"],
    ['host upper-case is lowered', { host: 'GW.Example.com', secure: true }, "'self' wss://gw.example.com"],
    ['a Host that is not host[:port] adds nothing', { host: "evil.example; script-src 'unsafe-inline'", secure: true }, "'self'"],
    ['no Host at all', { host: undefined, secure: false }, "'self'"],
  ] as const)('%s', (_name, page, expected) => {
    const csp = contentSecurityPolicy([], page);
    expect(connectSrc(csp)).toBe(expected);
    expect(csp).not.toMatch(/connect-src[^;]*\b(ws|wss):(?!\/\/)/);
  });

  it('keeps the other directives and the frame ancestors', () => {
    const csp = contentSecurityPolicy(['https://crm.example.com'], { host: 'gw:1', secure: true });
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'self' https://crm.example.com");
  });
});
