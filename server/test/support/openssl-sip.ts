import { spawn, type ChildProcess } from 'node:child_process';
import { parseResponse, splitStream, waitUntil, type SipResponse } from './sip-client.js';

/**
 * A SIP peer over TLS made of the real `openssl s_client` (OpenSSL 3): the test writes exact SIP
 * bytes to its standard input and reads what the gateway answers from its standard output, with
 * a client certificate (`-cert`/`-key`) or none, from a chosen loopback address (`-bind`). The
 * server certificate is checked against `caFile` (`-verify_return_error`): a handshake that does
 * not verify ends the process.
 */
export class OpensslSipClient {
  readonly responses: SipResponse[] = [];
  /** s_client's standard error (verification and handshake messages), for assertion messages. */
  stderr = '';
  private buf: Buffer = Buffer.alloc(0);

  private constructor(private readonly child: ChildProcess) {
    child.stdout!.on('data', (d: Buffer) => {
      const { messages, rest } = splitStream(Buffer.concat([this.buf, d]));
      this.buf = rest;
      for (const m of messages) {
        const r = parseResponse(m);
        if (r) this.responses.push(r);
      }
    });
    child.stderr!.on('data', (d: Buffer) => void (this.stderr += d.toString()));
  }

  static connect(o: { port: number; caFile: string; bind?: string; cert?: { certFile: string; keyFile: string } }): OpensslSipClient {
    const args = [
      's_client', '-connect', `127.0.0.1:${o.port}`, '-servername', 'localhost', '-CAfile', o.caFile, '-verify_return_error',
      // -quiet: only the application data on stdout, stdin EOF ignored; -nocommands: no line is an s_client command.
      '-quiet', '-nocommands',
      ...(o.bind ? ['-bind', `${o.bind}:0`] : []),
      ...(o.cert ? ['-cert', o.cert.certFile, '-key', o.cert.keyFile] : []),
    ];
    return new OpensslSipClient(spawn('openssl', args, { stdio: ['pipe', 'pipe', 'pipe'] }));
  }

  send(message: string): void {
    this.child.stdin!.write(message);
  }

  get exited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  /** The first response (after `from`) for which `match` holds; rejects after `ms`. */
  async response(match: (r: SipResponse) => boolean, ms = 10_000, from = 0): Promise<SipResponse> {
    let found: SipResponse | undefined;
    await waitUntil(() => (found = this.responses.slice(from).find(match)) !== undefined || this.exited, ms);
    if (!found) found = this.responses.slice(from).find(match);
    if (!found) throw new Error(`no matching response (got ${this.responses.map((r) => r.status).join(', ') || 'none'}; s_client ${this.exited ? 'exited' : 'running'}): ${this.stderr.slice(-500)}`);
    return found;
  }

  async close(): Promise<void> {
    if (this.exited) return;
    const done = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    await done;
  }
}
