import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildWidget } from '../scripts/build-widget.mjs';

/**
 * Builds the widget, then starts a real gateway (e2e/support/gateway-main.ts under tsx) on free
 * ports and hands its address to the specs through TONEGATE_E2E_URL. Returns the teardown.
 */
export default async function globalSetup(): Promise<() => Promise<void>> {
  await buildWidget({ quiet: true });
  const root = fileURLToPath(new URL('..', import.meta.url));
  const artifacts = fileURLToPath(new URL('./artifacts/', import.meta.url));
  mkdirSync(artifacts, { recursive: true });
  const log = createWriteStream(`${artifacts}gateway.log`);
  const child = spawn(process.execPath, ['--import', 'tsx', 'e2e/support/gateway-main.ts'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stderr.pipe(log);

  const ports = await new Promise<{ httpPort: number; sipPort: number }>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('the gateway did not start within 30 s (see e2e/artifacts/gateway.log)')), 30_000);
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /TONEGATE_E2E (\{.*\})/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(JSON.parse(m[1]!) as { httpPort: number; sipPort: number });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the gateway exited with ${code} before listening (see e2e/artifacts/gateway.log)`));
    });
  });
  process.env.TONEGATE_E2E_URL = `http://127.0.0.1:${ports.httpPort}`;

  return async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
    log.end();
  };
}
