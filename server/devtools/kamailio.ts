import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { collectLines } from './lines.js';
import { freePort } from './ports.js';

const TEMPLATE = fileURLToPath(new URL('../../sip-profiles/kamailio/kamailio.cfg', import.meta.url));

/**
 * A real Kamailio (Debian package) in front of gateways: sip-profiles/kamailio/kamailio.cfg with
 * its placeholders filled, a dispatcher list naming every gateway (set 1), run in the foreground
 * with its own runtime directory; stop() ends it and removes the directory.
 */
export class Kamailio {
  readonly lines: string[] = [];

  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
    private readonly dir: string,
    /** With `wsPort`: the SIP WebSocket port (RFC 7118) agents register on (`-A WITH_WEBSOCKET`). */
    readonly wsPort: number | undefined,
    /** With `wss`: the SIP WebSocket over TLS port (wss:, `-A WITH_TLS`). */
    readonly wssPort: number | undefined,
  ) {
    collectLines(child, this.lines);
  }

  /**
   * `trusted`: CIDRs allowed to send payment INVITEs (permissions group 1); default the loopback
   * network. `wsPort`: also the agents' SIP WebSocket front (`-A WITH_WEBSOCKET`: Path, RFC 3327).
   * `wss`: also that front over TLS (`-A WITH_TLS`, tls module): a tls.cfg in the run directory
   * whose `[server:default]` profile takes TLS 1.2 or newer (`method = TLSv1.2+`) with this
   * certificate and key and asks for no client certificate. Without `wsPort`, the plain WebSocket
   * listener gets a port of its own anyway (the cfg's WITH_TLS implies WITH_WEBSOCKET).
   *
   * A port left out (`port`, `wss.port`) or given as `'auto'` (`wsPort`) is chosen here, and a
   * start that fails because another process took one of those ports between the choice and
   * Kamailio's bind (an outgoing connection's ephemeral port, say) is retried on fresh ports, up to
   * five times. A port the caller names is used as given: a bind failure on it is thrown (hold it
   * with `holdPorts` until right before the start when it must be named earlier).
   */
  static async start(o: {
    port?: number;
    gateways: { host: string; port: number }[];
    trusted?: string[];
    wsPort?: number | 'auto';
    wss?: { port?: number; certFile: string; keyFile: string };
  }): Promise<Kamailio> {
    for (let attempt = 1; ; attempt++) {
      const ports = {
        sip: o.port ?? (await freePort()),
        ws: typeof o.wsPort === 'number' ? o.wsPort : o.wsPort === 'auto' || o.wss ? await freePort() : undefined,
        wss: o.wss ? (o.wss.port ?? (await freePort())) : undefined,
      };
      try {
        return await Kamailio.startOn(o, ports);
      } catch (e) {
        const chosenHere = o.port === undefined || o.wsPort === 'auto' || (o.wss !== undefined && o.wss.port === undefined);
        if (attempt >= 5 || !chosenHere || !(e instanceof KamailioExit) || !/Address already in use/.test(e.message)) throw e;
      }
    }
  }

  private static async startOn(
    o: { gateways: { host: string; port: number }[]; trusted?: string[]; wss?: { certFile: string; keyFile: string } },
    ports: { sip: number; ws: number | undefined; wss: number | undefined },
  ): Promise<Kamailio> {
    const dir = mkdtempSync(join(tmpdir(), 'kamailio-'));
    const list = join(dir, 'dispatcher.list');
    writeFileSync(list, o.gateways.map((g) => `1 sip:${g.host}:${g.port} 0 0\n`).join(''));
    const trusted = join(dir, 'trusted-peers.list');
    writeFileSync(trusted, (o.trusted ?? ['127.0.0.0/8']).map((c, i) => `1 ${c.split('/')[0]} ${c.split('/')[1] ?? 32} 0 pbx${i}\n`).join(''));
    const tlsCfg = join(dir, 'tls.cfg');
    if (o.wss) {
      writeFileSync(
        tlsCfg,
        [
          '[server:default]',
          'method = TLSv1.2+',
          'verify_certificate = no',
          'require_certificate = no',
          `certificate = ${o.wss.certFile}`,
          `private_key = ${o.wss.keyFile}`,
          '',
        ].join('\n'),
      );
    }
    const cfg = join(dir, 'kamailio.cfg');
    writeFileSync(
      cfg,
      readFileSync(TEMPLATE, 'utf8')
        .replace(/LISTEN_ADDR/g, '127.0.0.1')
        .replace(/LISTEN_PORT/g, String(ports.sip))
        .replace(/WSS_PORT/g, String(ports.wss ?? 0))
        .replace(/WS_PORT/g, String(ports.ws ?? 0))
        .replace(/TLS_CONFIG/g, tlsCfg)
        .replace(/DISPATCHER_LIST/g, list)
        .replace(/RUN_DIR/g, dir)
        .replace(/TRUSTED_PEERS_FILE/g, trusted),
    );
    // -DD: foreground, -E: log to stderr, -Y: runtime dir, -m/-M: shared/private memory (MB).
    const defines = [...(ports.ws !== undefined ? ['-A', 'WITH_WEBSOCKET'] : []), ...(o.wss ? ['-A', 'WITH_TLS'] : [])];
    const child = spawn('kamailio', ['-DD', '-E', ...defines, '-f', cfg, '-Y', dir, '-P', join(dir, 'kamailio.pid'), '-m', '64', '-M', '8'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const k = new Kamailio(child, ports.sip, dir, ports.ws, ports.wss);
    const exited = (): KamailioExit => {
      rmSync(dir, { recursive: true, force: true });
      return new KamailioExit(`kamailio exited ${child.exitCode}:\n${k.lines.slice(-20).join('\n')}`);
    };
    const until = Date.now() + 10_000;
    while (!k.lines.some((l) => /Listening on|INFO:.*init_tcp|main\(\): /.test(l)) || child.exitCode !== null) {
      if (child.exitCode !== null) throw exited();
      if (Date.now() > until) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) => setTimeout(r, 500));
    if (child.exitCode !== null) throw exited();
    return k;
  }

  /** Lines Kamailio logged with `$rm $ru -> $du` for the requests it dispatched. */
  dispatched(): string[] {
    return this.lines.filter((l) => / -> sip:/.test(l));
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null) {
      const done = new Promise((r) => this.child.once('exit', r));
      this.child.kill('SIGTERM');
      await Promise.race([done, new Promise((r) => setTimeout(r, 5000))]);
      if (this.child.exitCode === null) this.child.kill('SIGKILL');
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Kamailio ended during its start; the message carries its last log lines. */
class KamailioExit extends Error {}
