import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { startGateway, type Gateway, type GatewayOptions } from '../../src/gateway.js';
import type { Clock } from '../../src/lib/clock.js';
import { createLogger } from '../../src/observability/logger.js';

/** Every log line the gateway wrote, for assertions (and for card-data leak scans later). */
export class LogSink extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    for (const l of chunk.toString().split('\n')) if (l) this.lines.push(l);
    cb();
  }
  messages(): string[] {
    return this.lines.map((l) => (JSON.parse(l) as { msg?: string }).msg ?? '');
  }
}

// Each test file runs in its own module context, so a counter alone would hand every file the same
// range; start each file at a random block so a range still held by a closing gateway is not reused.
/**
 * RTP ranges below 40000 (where SIPp media ports are picked). Files that run at the same time (the
 * integration project runs three: vitest's VITEST_POOL_ID) each draw from a band of their own, so
 * two concurrent gateways never share RTP ports; within its band a file starts at a random range and
 * takes the next one for each further gateway, wrapping inside the band.
 */
const RTP_BAND = 2400;
const rtpBand = 30000 + ((Math.max(1, Number(process.env['VITEST_POOL_ID'] ?? 1)) - 1) % 4) * RTP_BAND;
let rtpRange = Math.floor(Math.random() * (RTP_BAND / 200));
function nextRtpMin(): number {
  const min = rtpBand + (rtpRange % (RTP_BAND / 200)) * 200;
  rtpRange++;
  return min;
}

/** Starts a real gateway on free ports of 127.0.0.1 (SIP port 0: the OS picks). */
export async function startTestGateway(
  env: Record<string, string> = {},
  opts: { clock?: Clock; config?: Partial<Config>; gateway?: GatewayOptions } = {},
): Promise<{ gw: Gateway; logs: LogSink; target: string }> {
  // Each gateway gets its own RTP range so suites never fight over ports.
  const min = nextRtpMin();
  // Each gateway writes its audit trail to a file of its own (issue 6), never to ./data.
  const audit = join(mkdtempSync(join(tmpdir(), 'tg-audit-')), 'audit.jsonl');
  const base = loadConfig({ SIP_DIGEST_ALGORITHMS: 'MD5', LOG_LEVEL: 'debug', RTP_PORT_MIN: String(min), RTP_PORT_MAX: String(min + 199), AUDIT_LOG: audit, ...env });
  const config: Config = { ...base, SIP_PORT: 0, HTTP_PORT: 0, DEMO_PG_PORT: 0, MEDIA_WORKERS: 1, ...opts.config };
  const logs = new LogSink();
  // The trust-boundary settings (TRUSTED_PEERS, VELOCITY_LIMITS, ...) are settings like any other: in `env` or `opts.config`.
  const gw = await startGateway(config, createLogger(config.LOG_LEVEL, logs), opts.clock, opts.gateway);
  return { gw, logs, target: `127.0.0.1:${gw.sipPort}` };
}
