import { describe, expect, it } from 'vitest';
import { dialogPeerAddresses, inDialogSourceVerdict } from '../../../../src/sip/dialog/source.js';
import { uriDestination } from '../../../../src/sip/stack.js';

type D = Parameters<typeof inDialogSourceVerdict>[0];
type S = Parameters<typeof inDialogSourceVerdict>[1];

const udpDialog: D = { flowId: 'udp:192.0.2.10:5060', remoteTarget: 'sip:alice@192.0.2.10:5070', routeSet: [] };
const proxied: D = { flowId: 'udp:198.51.100.1:5060', remoteTarget: 'sip:alice@192.0.2.10:5070', routeSet: ['<sip:198.51.100.1;lr>', '<sip:203.0.113.5:5080;lr>'] };
const tlsDialog: D = { flowId: 'tls:7', remoteTarget: 'sips:agent-1@127.0.0.1:40000', routeSet: [] };
const wsDialog: D = { flowId: 'ws:3', remoteTarget: 'sip:agent-1@abc.invalid;transport=ws', routeSet: [] };

const udp = (address: string, port = 5060): S => ({ id: `udp:${address}:${port}`, protocol: 'UDP', remote: { address, port } });
const conn = (id: string, address = '127.0.0.1'): S => ({ id, protocol: id.startsWith('tls') ? 'TLS' : id.startsWith('ws') ? 'WS' : 'TCP', remote: { address, port: 40000 } });

// One row per case: dialog, where the request came from, accepted?
const table: [string, D, S, boolean][] = [
  ['UDP: the peer it was set up with', udpDialog, udp('192.0.2.10'), true],
  ['UDP: the peer from another port (ports are not compared)', udpDialog, udp('192.0.2.10', 41000), true],
  ['UDP: IPv4-mapped IPv6 form of the peer', udpDialog, udp('::ffff:192.0.2.10'), true],
  ['UDP: another address', udpDialog, udp('192.0.2.99'), false],
  ['UDP: a large request over TCP from the peer (RFC 3261 18.1.1)', udpDialog, conn('tcp:4', '192.0.2.10'), true],
  ['UDP: a connection from another address', udpDialog, conn('tls:9', '192.0.2.99'), false],
  ['UDP via proxy: the proxy (flow and first route)', proxied, udp('198.51.100.1'), true],
  ['UDP via proxy: a later hop of the route set', proxied, udp('203.0.113.5'), true],
  ['UDP via proxy: the remote target itself', proxied, udp('192.0.2.10'), true],
  ['UDP via proxy: a stranger', proxied, udp('192.0.2.77'), false],
  ['TLS: its own connection', tlsDialog, conn('tls:7'), true],
  ['TLS: another TLS connection from the same address', tlsDialog, conn('tls:8'), false],
  ['TLS: UDP from the same address', tlsDialog, udp('127.0.0.1', 40000), false],
  ['WS: its own connection', wsDialog, conn('ws:3'), true],
  ['WS: another WebSocket', wsDialog, conn('ws:4'), false],
];

describe('in-dialog request source (sip/dialog/source.ts)', () => {
  it.each(table)('%s', (_name, dialog, source, ok) => {
    expect(inDialogSourceVerdict(dialog, source).ok).toBe(ok);
  });

  it('a refusal says where the request came from and where the dialog runs', () => {
    expect(inDialogSourceVerdict(tlsDialog, conn('tls:8'))).toEqual({ ok: false, reason: 'arrived on tls:8, the dialog runs on tls:7' });
    expect(inDialogSourceVerdict(udpDialog, udp('192.0.2.99'))).toEqual({ ok: false, reason: "arrived from 192.0.2.99 (UDP), not from the dialog's peer or route set" });
  });

  it('peer addresses skip route entries and targets that name a host instead of an IP (no DNS here)', () => {
    expect([...dialogPeerAddresses({ flowId: 'udp:192.0.2.1:5060', remoteTarget: 'sip:a@pbx.example.com', routeSet: ['<sip:proxy.example.com;lr>'] })]).toEqual(['192.0.2.1']);
  });
});

describe('uriDestination: SIPS and TLS (RFC 3261 19.1.2, 26.2; RFC 5630)', () => {
  it.each([
    ['sips:agent-1@192.0.2.5', 'TLS', 5061],
    ['sips:agent-1@192.0.2.5:6000', 'TLS', 6000],
    ['sip:agent-1@192.0.2.5;transport=tls', 'TLS', 5061],
    ['sip:agent-1@192.0.2.5;transport=TCP', 'TCP', 5060],
    ['sip:agent-1@192.0.2.5', 'UDP', 5060],
    ['sips:agent-1@x.invalid;transport=ws', undefined, undefined],
  ] as const)('%s -> %s port %s', (uri, protocol, port) => {
    const d = uriDestination(uri);
    expect(d?.protocol).toBe(protocol);
    expect(d?.endpoint.port).toBe(port);
  });
});
