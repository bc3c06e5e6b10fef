import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/observability/logger.js';
import { SipStack, viaParams } from '../../../src/sip/stack.js';
import { createTransportLayer } from '../../../src/sip/transport/index.js';
import { FakeClock } from '../../support/fake-clock.js';

const HOST = '127.0.0.1';
const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function start(): Promise<SipStack> {
  const layer = await createTransportLayer({ host: HOST, port: 0, logger: silentLogger, clock: new FakeClock() });
  const stack = new SipStack(layer, new FakeClock(), silentLogger);
  cleanups.push(() => stack.close());
  return stack;
}

/** A UDP peer on 127.0.0.1 collecting what it receives. */
async function peer(): Promise<{ socket: dgram.Socket; port: number; got: string[] }> {
  const socket = dgram.createSocket('udp4');
  const got: string[] = [];
  socket.on('message', (m) => got.push(m.toString()));
  await new Promise<void>((r) => socket.bind(0, HOST, () => r()));
  cleanups.push(() => new Promise<void>((r) => socket.close(() => r())));
  return { socket, port: socket.address().port, got };
}

async function waitFor(cond: () => boolean, ms = 2000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

const request = (via: string): string =>
  [
    'INVITE sip:user@example.com SIP/2.0',
    'To: sip:j.user@example.com',
    'From: sip:caller@example.net;tag=134161461246',
    'Max-Forwards: 7',
    'Call-ID: stack-test.0ha0isndaksdj',
    'CSeq: 8 INVITE',
    `Via: ${via}`,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');

describe('SipStack stateless replies over UDP (RFC 3261 18.2.1, 18.2.2)', () => {
  it('answers a request with a malformed top Via (RFC 4475 badinv01) at the packet source, not at sent-by', async () => {
    const stack = await start();
    const p = await peer();
    // sent-by names another host (TEST-NET, unreachable from here) with our port: the 400 must go to
    // received = the packet source, at the sent-by port.
    p.socket.send(request(`SIP/2.0/UDP 192.0.2.15:${p.port};;,;,,`), stack.transport.udpPort, HOST);
    await waitFor(() => p.got.length > 0);
    expect(p.got[0]).toMatch(/^SIP\/2\.0 400 /);
    expect(stack.stats().rejected).toBe(1);
  });

  it('answers a malformed top Via at the packet source even when it names a received address itself', async () => {
    const stack = await start();
    const p = await peer();
    p.socket.send(request(`SIP/2.0/UDP 192.0.2.15:${p.port};received=198.51.100.7;;,;,,`), stack.transport.udpPort, HOST);
    await waitFor(() => p.got.length > 0);
    expect(p.got[0]).toMatch(/^SIP\/2\.0 400 /);
  });

  it('answers a well-formed Via naming a host at received + the sent-by port', async () => {
    const stack = await start();
    const p = await peer();
    p.socket.send(request(`SIP/2.0/UDP host5.example.com:${p.port};branch=z9hG4bK-1`).replace('CSeq: 8 INVITE', 'CSeq: 8 BYE'), stack.transport.udpPort, HOST);
    await waitFor(() => p.got.length > 0);
    expect(p.got[0]).toMatch(/^SIP\/2\.0 400 /);
    expect(p.got[0]).toContain(`received=${HOST}`);
  });
});

describe('SipStack CANCEL (RFC 3261 9.2)', () => {
  const invite = (port: number, branch: string): string => request(`SIP/2.0/UDP ${HOST}:${port};branch=${branch}`);
  const cancel = (port: number, branch: string): string =>
    invite(port, branch).replace('INVITE sip:user@example.com', 'CANCEL sip:user@example.com').replace('CSeq: 8 INVITE', 'CSeq: 8 CANCEL');

  async function withUser() {
    const stack = await start();
    const p = await peer();
    const cancelled: string[] = [];
    let txn: import('../../../src/sip/transaction/index.js').ServerTransaction | undefined;
    stack.serve({
      onRequest: (_req, t) => (txn = t),
      onAck: () => {},
      onCancel: (t) => cancelled.push(t.id),
      onUnmatched2xx: () => {},
      onFlowClosed: () => {},
    });
    return { stack, p, cancelled, txn: () => txn };
  }

  it('before a final response: 200 to the CANCEL and the TU is told (it answers the INVITE 487)', async () => {
    const { stack, p, cancelled, txn } = await withUser();
    p.socket.send(invite(p.port, 'z9hG4bK-c1'), stack.transport.udpPort, HOST);
    await waitFor(() => txn() !== undefined);
    p.socket.send(cancel(p.port, 'z9hG4bK-c1'), stack.transport.udpPort, HOST);
    await waitFor(() => p.got.some((m) => /^SIP\/2\.0 200 [^\r]*\r\n[\s\S]*CSeq: 8 CANCEL/.test(m)));
    expect(cancelled).toEqual([txn()!.id]);
  });

  it('after a final response: still 200 to the CANCEL, but the TU is not told (no second final)', async () => {
    const { stack, p, cancelled, txn } = await withUser();
    p.socket.send(invite(p.port, 'z9hG4bK-c2'), stack.transport.udpPort, HOST);
    await waitFor(() => txn() !== undefined);
    stack.respond(txn()!, 486);
    await waitFor(() => p.got.some((m) => m.startsWith('SIP/2.0 486')));
    p.socket.send(cancel(p.port, 'z9hG4bK-c2'), stack.transport.udpPort, HOST);
    await waitFor(() => p.got.some((m) => /^SIP\/2\.0 200 [^\r]*\r\n[\s\S]*CSeq: 8 CANCEL/.test(m)));
    expect(cancelled).toEqual([]);
  });
});

describe('SipStack.serve: the transaction user comes last (composition root)', () => {
  const user = () => ({ onRequest: () => {}, onAck: () => {}, onCancel: () => {}, onUnmatched2xx: () => {}, onFlowClosed: () => {} });

  it('answers a new request 503 until a transaction user is served (RFC 3261 21.5.4)', async () => {
    const stack = await start();
    const p = await peer();
    p.socket.send(request(`SIP/2.0/UDP ${HOST}:${p.port};branch=z9hG4bK-early`), stack.transport.udpPort, HOST);
    await waitFor(() => p.got.length > 0);
    expect(p.got[0]).toMatch(/^SIP\/2\.0 503 /);
  });

  it('serves one transaction user: a second serve() is a wiring mistake and throws', async () => {
    const stack = await start();
    stack.serve(user());
    expect(() => stack.serve(user())).toThrow(/already serves a transaction user/);
  });
});

describe('viaParams: the Contact over TLS follows the dialog URI scheme (RFC 3261 12.1.1, RFC 5630 3.1.3)', () => {
  it.each([
    ['a sips: Request-URI', 'sips:pay@192.0.2.1:5061', '<sips:tonegate@192.0.2.1:5061>'],
    ['no URI (a request of our own)', undefined, '<sips:tonegate@192.0.2.1:5061>'],
    ['a sip: Request-URI with ;transport=tls (a desk phone)', 'sip:pay-abc@192.0.2.1:5061;transport=tls', '<sip:tonegate@192.0.2.1:5061;transport=tls>'],
    ['a bracketed sip: target', '<sip:agent-1@192.0.2.9:40000;transport=tls>', '<sip:tonegate@192.0.2.1:5061;transport=tls>'],
    ['a SIPS target in capitals', 'SIPS:agent-1@192.0.2.9', '<sips:tonegate@192.0.2.1:5061>'],
  ])('over TLS with %s', (_n, uri, contact) => {
    expect(viaParams('TLS', false, '192.0.2.1:5061', uri)).toEqual({ protocol: 'TLS', sentBy: '192.0.2.1:5061', contact });
  });

  it('leaves UDP, TCP and WS(S) Contacts as they were, whatever the URI', () => {
    expect(viaParams('UDP', false, '192.0.2.1:5060', 'sips:x@y').contact).toBe('<sip:tonegate@192.0.2.1:5060>');
    expect(viaParams('TCP', false, '192.0.2.1:5060').contact).toBe('<sip:tonegate@192.0.2.1:5060;transport=tcp>');
    expect(viaParams('WS', true, '192.0.2.1:8443', 'sip:x@y')).toEqual({ protocol: 'WSS', sentBy: '192.0.2.1:8443', contact: '<sip:tonegate@192.0.2.1:8443;transport=wss>' });
  });
});
