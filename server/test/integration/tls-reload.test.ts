import { randomInt } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GatewayChild } from '../support/gateway-process.js';
import { freeMediaPort, freePort } from '../../devtools/ports.js';
import { waitUntil } from '../support/sip-client.js';
import { runSipp } from '../../devtools/sipp/run.js';
import { sClient, TestCa } from '../support/tls-certs.js';
import { RtpSink, WsSipAgent } from '../support/ws-sip-agent.js';

/**
 * Certificate renewal without dropping anything (docs/operations.md): the gateway runs as its own
 * process (as `npm start` does), a call runs with the agent on SIP over TLS, the certificate files
 * are replaced and the process gets SIGHUP. The real `openssl s_client` then sees the new
 * certificate on the SIP TLS port and on HTTPS, while the call's TLS connection, made with the old
 * one, carries on.
 */
let gw: GatewayChild | undefined;
let agent: WsSipAgent | undefined;
let rtp: RtpSink | undefined;
afterAll(async () => {
  await agent?.close().catch(() => undefined);
  await rtp?.close();
  await gw?.stop();
});

const reloadLines = (g: GatewayChild, fp: string): number => g.lines.filter((l) => l.includes('tls certificate reloaded') && l.includes(fp)).length;

describe('SIGHUP reloads TLS_CERT_FILE/TLS_KEY_FILE', () => {
  it('a renewed certificate is served on SIP TLS and HTTPS after SIGHUP while a TLS SIP call stays up; a broken renewal keeps the current one', async () => {
    const ca = TestCa.create();
    const dir = mkdtempSync(join(tmpdir(), 'tg-reload-'));
    const files = { certFile: join(dir, 'gateway.pem'), keyFile: join(dir, 'gateway.key') };
    const first = ca.issue('127.0.0.1', files);
    const [sipPort, tlsPort, httpPort, pgPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const rtpMin = 29000 + 100 * randomInt(0, 10);
    gw = await GatewayChild.start(
      {
        TLS_CERT_FILE: files.certFile, TLS_KEY_FILE: files.keyFile,
        SIP_PORT: String(sipPort), SIP_TLS_PORT: String(tlsPort), HTTP_PORT: String(httpPort), DEMO_PG_PORT: String(pgPort),
        RTP_PORT_MIN: String(rtpMin), RTP_PORT_MAX: String(rtpMin + 99), MEDIA_WORKERS: '1', LOG_LEVEL: 'info',
        AUDIT_LOG: join(dir, 'audit.jsonl'), SIP_DIGEST_ALGORITHMS: 'SHA-256,MD5',
      },
      { ca: ca.cert },
    );
    expect(gw.lines.some((l) => l.includes(`SIP TLS    sips:127.0.0.1:${tlsPort}`))).toBe(true);
    expect(gw.lines.some((l) => l.includes(first.fingerprint))).toBe(true);

    // A call: SIPp caller over UDP -> gateway -> agent-1 on SIP over TLS.
    agent = await WsSipAgent.connectTls(tlsPort, { user: 'agent-1', password: 'demo', ca: ca.cert });
    expect((await agent.register({ expires: 300 })).final.status).toBe(200);
    rtp = await RtpSink.open();
    const caller = runSipp({ scenario: 'caller-wait-bye.xml', target: `127.0.0.1:${sipPort}`, service: 'agent-1', localPort: await freePort(), mediaPort: await freeMediaPort(), timeoutS: 60 }).done;
    const d = agent.answer(await agent.nextRequest('INVITE'), rtp.port);
    await agent.nextRequest('ACK');

    const before = { sip: await sClient(tlsPort, ['-CAfile', ca.certFile]), https: await sClient(httpPort, ['-CAfile', ca.certFile]) };
    expect(before.sip.fingerprint).toBe(first.fingerprint);
    expect(before.https.fingerprint).toBe(first.fingerprint);

    // Renewal: new key and certificate in the same files, then SIGHUP.
    const second = ca.issue('127.0.0.1', files);
    expect(second.fingerprint).not.toBe(first.fingerprint);
    gw.child.kill('SIGHUP');
    expect(await waitUntil(() => reloadLines(gw!, second.fingerprint) === 1, 10_000, 50)).toBe(true);
    const after = { sip: await sClient(tlsPort, ['-CAfile', ca.certFile]), https: await sClient(httpPort, ['-CAfile', ca.certFile]) };
    expect(after.sip.fingerprint).toBe(second.fingerprint);
    expect(after.https.fingerprint).toBe(second.fingerprint);
    expect(after.sip.output).toMatch(/Verify return code: 0 \(ok\)/);

    // The call's TLS connection was kept, still on the certificate it was made with, and still carries the dialog.
    expect(agent.open).toBe(true);
    expect(`sha256:${agent.tlsSocket!.getPeerCertificate().fingerprint256}`).toBe(first.fingerprint);
    expect((await agent.inDialog(d, 'INFO', [], { type: 'application/dtmf-relay', content: 'Signal=1\r\nDuration=160\r\n' })).status).toBe(200);

    // A broken renewal (not a certificate) is refused; the renewed certificate stays in service.
    writeFileSync(files.certFile, 'not a certificate\n');
    gw.child.kill('SIGHUP');
    expect(await waitUntil(() => gw!.lines.some((l) => l.includes('tls certificate reload failed')), 10_000, 50)).toBe(true);
    expect((await sClient(tlsPort, ['-CAfile', ca.certFile])).fingerprint).toBe(second.fingerprint);

    // The agent hangs up: the caller gets the BYE, the call ends normally.
    expect((await agent.inDialog(d, 'BYE')).status).toBe(200);
    const r = await caller;
    expect(r.code, `caller failed:\n${r.errors}\n${r.stderr}`).toBe(0);
    expect(gw.warnings().filter((l) => !l.includes('tls certificate reload failed'))).toEqual([]);
  });
});
