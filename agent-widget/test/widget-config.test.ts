import { afterEach, describe, expect, it, vi } from 'vitest';
import { sipSocketUrl } from '../src/ui/config.js';

// Where the widget's SIP WebSocket goes (README, "Agents across instances"): SIP_WS_URL from
// /api/widget-config when the gateway gives one, else /sip on the page's own host.
describe('sipSocketUrl', () => {
  afterEach(() => vi.unstubAllGlobals());

  it.each([
    ['the gateway gives SIP_WS_URL', { sipPath: '/sip', sipWsUrl: 'wss://sip.example.com/' }, 'https:', 'wss://sip.example.com/'],
    ['ws: as given (demo, no TLS)', { sipPath: '/sip', sipWsUrl: 'ws://127.0.0.1:5066/' }, 'http:', 'ws://127.0.0.1:5066/'],
    ['an older gateway: no sipWsUrl, /sip on the page host', { sipPath: '/sip' }, 'https:', 'wss://gw.example.com:8443/sip'],
    ['plain HTTP page, no sipWsUrl', { sipPath: '/sip' }, 'http:', 'ws://gw.example.com:8443/sip'],
    ['anything but ws:/wss: is not opened', { sipPath: '/sip', sipWsUrl: 'https://sip.example.com/' }, 'https:', 'wss://gw.example.com:8443/sip'],
  ])('%s', (_name, config, protocol, expected) => {
    vi.stubGlobal('location', { protocol, host: 'gw.example.com:8443' });
    expect(sipSocketUrl(config)).toBe(expected);
  });
});
