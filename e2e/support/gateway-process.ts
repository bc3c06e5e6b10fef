import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface GatewayProcess {
  url: string;
  sipPort: number;
  supervisorToken: string;
  /** The demo provider's fixed OTP, when the gateway was given one. */
  demoOtp?: string;
  stop(): Promise<void>;
}

/**
 * Starts a real gateway (e2e/support/gateway-main.ts under tsx) on free ports with `env` added to
 * this process's environment; its JSON log goes to e2e/artifacts/<logName>. Resolves once it listens.
 */
export async function startGatewayProcess(env: Record<string, string>, logName: string): Promise<GatewayProcess> {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const log = createWriteStream(fileURLToPath(new URL(`../artifacts/${logName}`, import.meta.url)));
  const child = spawn(process.execPath, ['--import', 'tsx', 'e2e/support/gateway-main.ts'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  child.stderr.pipe(log);
  const ports = await new Promise<{ httpPort: number; sipPort: number; supervisorToken: string; demoOtp?: string; tls?: boolean }>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`the gateway did not start within 30 s (see e2e/artifacts/${logName})`)), 30_000);
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /TONEGATE_E2E (\{.*\})/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(JSON.parse(m[1]!) as { httpPort: number; sipPort: number; supervisorToken: string; demoOtp?: string; tls?: boolean });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the gateway exited with ${code} before listening (see e2e/artifacts/${logName})`));
    });
  });
  return {
    // With TLS_CERT_FILE the gateway serves HTTPS/WSS only.
    url: `${ports.tls ? 'https' : 'http'}://127.0.0.1:${ports.httpPort}`,
    sipPort: ports.sipPort,
    supervisorToken: ports.supervisorToken,
    ...(ports.demoOtp ? { demoOtp: ports.demoOtp } : {}),
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
      log.end();
    },
  };
}
