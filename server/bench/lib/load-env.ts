/**
 * The set-up shared by bench:load and bench:soak: the gateway as its own process (the code of
 * `npm start`, demo provider embedded, LOG_LEVEL warn), the supervisor connection, and the
 * customer's media files and SIPp scenarios in a fresh run directory.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inbandUlaw, paymentPlan, writeRfc4733Pcap } from './call-audio.js';
import { GatewayProcess } from './gateway.js';
import { LoadTap, type LoadEnv } from './load-run.js';
import { writePaymentScenario } from '../../devtools/sipp/load-scenario.js';
import { freePort } from '../../devtools/ports.js';
import { sleep, spawnTracked, stopChild } from '../../devtools/procs.js';
import type { ChildProcess } from 'node:child_process';
import { sippVersion } from '../../devtools/sipp/run.js';

export const LOAD_OTP = '482913';
const TOKEN = 'bench-load-supervisor-token';

export async function startLoadEnv(name: string, extraEnv: Record<string, string> = {}, nodeArgs: string[] = []): Promise<LoadEnv & { sipp: string; pgPort: number; provider: ChildProcess }> {
  const sipp = sippVersion();
  const repo = fileURLToPath(new URL('../../..', import.meta.url));
  const [sipPort, httpPort, pgPort, sippMediaPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const runDir = mkdtempSync(join(tmpdir(), `bench-${name}-`));
  // The demo provider stands in for the bank: its own process, so its work is not the gateway's.
  const provider = await startDemoProviderProcess(repo, pgPort);
  const gw = await GatewayProcess.start({
    sipPort,
    httpPort,
    logDir: runDir,
    nodeArgs: nodeArgs.map((a) => a.replace('{runDir}', runDir)),
    env: {
      SIP_PORT: String(sipPort), HTTP_PORT: String(httpPort), DEMO_PG_PORT: String(pgPort), DEMO_OTP: LOAD_OTP, SUPERVISOR_TOKEN: TOKEN,
      PAYMENT_API_URL: `http://127.0.0.1:${pgPort}`,
      LOG_LEVEL: 'warn', RTP_PORT_MIN: '20000', RTP_PORT_MAX: '29999', AUDIT_LOG: join(runDir, 'audit.jsonl'),
      ...extraEnv,
    },
  });
  const tap = await LoadTap.open(httpPort, TOKEN);
  // Tail: the payment and the outcome prompt run while the customer's stream goes on in silence.
  const plan = paymentPlan({ pan: '4111111111111111', expiry: '1230', cvv: '123', otp: LOAD_OTP, tailMs: 4000 });
  const pcap = join(runDir, 'call-rfc4733.pcap');
  const ulaw = join(runDir, 'call-inband.ulaw');
  writeRfc4733Pcap(plan, pcap);
  writeFileSync(ulaw, inbandUlaw(plan));
  const byeTimeoutMs = plan.lengthMs + 30_000;
  return {
    gw,
    tap,
    plan,
    media: { rfc4733: pcap, inband: ulaw },
    scenarios: {
      rfc4733: writePaymentScenario(runDir, 'rfc4733', pcap, byeTimeoutMs),
      inband: writePaymentScenario(runDir, 'inband', ulaw, byeTimeoutMs),
    },
    runDir,
    sippMediaPort,
    others: { provider: provider.pid ?? -1 },
    run: `${Date.now().toString(36)}-`,
    sipp,
    pgPort,
    provider,
  };
}

/** The demo provider (server/src/demo/main.ts) on 127.0.0.1:`port`, answering once it is up. */
async function startDemoProviderProcess(repo: string, port: number): Promise<ChildProcess> {
  const child = spawnTracked(process.execPath, ['--import', 'tsx', join(repo, 'server/src/demo/main.ts')], {
    cwd: repo,
    env: { ...process.env, DEMO_PG_PORT: String(port), DEMO_OTP: LOAD_OTP, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`demo provider exited with ${child.exitCode}: ${err}`);
    try {
      if ((await fetch(`http://127.0.0.1:${port}/v1/keys/card`, { signal: AbortSignal.timeout(1000) })).ok) return child;
    } catch {
      /* not up yet */
    }
    await sleep(200);
  }
  await stopChild(child, 'SIGKILL');
  throw new Error(`demo provider did not answer on 127.0.0.1:${port} within 20 s: ${err}`);
}

/** Stops what startLoadEnv started: the supervisor connection, the gateway, the demo provider. */
export async function stopLoadEnv(env: LoadEnv & { provider: ChildProcess }): Promise<void> {
  env.tap.close();
  await env.gw.stop();
  await stopChild(env.provider, 'SIGTERM', 3000);
}
