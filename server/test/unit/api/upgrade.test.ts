import { describe, expect, it } from 'vitest';
import { normalizeOrigin, originAllowed, pathOf } from '../../../src/api/upgrade.js';

describe('Origin check of the /events handshake', () => {
  it.each([
    ['no Origin (not a browser)', undefined, '127.0.0.1:8080', undefined, true],
    ['same origin', 'http://127.0.0.1:8080', '127.0.0.1:8080', undefined, true],
    ['same origin, host in other case', 'http://LocalHost:8080', 'localhost:8080', undefined, true],
    ['same origin on the default port', 'http://gw.example', 'gw.example:80', undefined, true],
    ['same origin over https on the default port', 'https://gw.example', 'gw.example', undefined, true],
    ['another port', 'http://127.0.0.1:9999', '127.0.0.1:8080', undefined, false],
    ['another host', 'http://evil.example:8080', '127.0.0.1:8080', undefined, false],
    ['https page, http Host default port', 'https://gw.example', 'gw.example:80', undefined, false],
    ['Origin "null" (sandboxed page)', 'null', '127.0.0.1:8080', undefined, false],
    ['a non-http Origin', 'file://x', '127.0.0.1:8080', undefined, false],
    ['no Host header', 'http://127.0.0.1:8080', undefined, undefined, false],
    ['a Host with userinfo', 'http://a:8080', 'evil@a:8080', undefined, false],
    ['an allowed origin', 'https://cc.example.com', '127.0.0.1:8080', ['https://cc.example.com'], true],
    ['an allowed origin with its default port spelled out', 'https://cc.example.com:443', '127.0.0.1:8080', ['https://cc.example.com'], true],
    ['same origin when a list is set and does not name it', 'http://127.0.0.1:8080', '127.0.0.1:8080', ['https://cc.example.com'], false],
    ['an origin not in the list', 'https://evil.example', '127.0.0.1:8080', ['https://cc.example.com'], false],
  ] as const)('%s', (_n, origin, host, allowed, expected) => {
    expect(originAllowed(origin, host, allowed)).toBe(expected);
  });

  it('normalizes origins and paths', () => {
    expect(normalizeOrigin('HTTPS://CC.example.com:443')).toBe('https://cc.example.com');
    expect(normalizeOrigin('ws://x')).toBeUndefined();
    expect(pathOf('/events?x=1')).toBe('/events');
    expect(pathOf('//x')).toBe('/');
  });
});
