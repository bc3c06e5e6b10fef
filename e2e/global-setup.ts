import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildWidget } from '../scripts/build-widget.mjs';
import { startCrm } from './support/crm-server.js';

/**
 * Builds the widget, then starts a real gateway (e2e/support/gateway-main.ts under tsx) on free
 * ports, with a stand-in CRM (support/crm-server.ts) as the one origin allowed to embed the widget.
 * Hands the addresses to the specs through TONEGATE_E2E_* variables. Returns the teardown.
 */
export default async function globalSetup(): Promise<() => Promise<void>> {
  await buildWidget({ quiet: true });
  const root = fileURLToPath(new URL('..', import.meta.url));
  const artifacts = fileURLToPath(new URL('./artifacts/', import.meta.url));
  mkdirSync(artifacts, { recursive: true });
  const log = createWriteStream(`${artifacts}gateway.log`);
  let gatewayUrl = '';
  const crm = await startCrm(() => `${gatewayUrl}/agent`);
  const crmOrigin = `http://localhost:${crm.port}`;
  const child = spawn(process.execPath, ['--import', 'tsx', 'e2e/support/gateway-main.ts'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, WIDGET_EMBED_ORIGINS: crmOrigin },
  });
  child.stderr.pipe(log);

  const ports = await new Promise<{ httpPort: number; sipPort: number; supervisorToken: string; demoOtp?: string }>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('the gateway did not start within 30 s (see e2e/artifacts/gateway.log)')), 30_000);
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /TONEGATE_E2E (\{.*\})/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(JSON.parse(m[1]!) as { httpPort: number; sipPort: number; supervisorToken: string; demoOtp?: string });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the gateway exited with ${code} before listening (see e2e/artifacts/gateway.log)`));
    });
  });
  gatewayUrl = `http://127.0.0.1:${ports.httpPort}`;
  process.env.TONEGATE_E2E_URL = gatewayUrl;
  process.env.TONEGATE_E2E_CRM = crmOrigin;
  process.env.TONEGATE_E2E_OTHER_ORIGIN = `http://127.0.0.1:${crm.port}`;
  // For the supervisor dashboard spec: its sign-in token, and SIPp payments (SIP over UDP, demo OTP).
  process.env.TONEGATE_E2E_SIP = `127.0.0.1:${ports.sipPort}`;
  process.env.TONEGATE_E2E_SUPERVISOR_TOKEN = ports.supervisorToken;
  process.env.TONEGATE_E2E_OTP = ports.demoOtp ?? '';

  return async () => {
    crm.server.close();
    if (child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
    log.end();
  };
}
