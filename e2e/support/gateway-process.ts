import { createWriteStream } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { spawnGateway } from '../../server/devtools/gateway-spawn.js';
import { stopChild } from '../../server/devtools/procs.js';

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
  const log = createWriteStream(fileURLToPath(new URL(`../artifacts/${logName}`, import.meta.url)));
  const child = spawnGateway({ entry: 'e2e/support/gateway-main.ts', env });
  child.stderr?.pipe(log);
  const ports = await new Promise<{ httpPort: number; sipPort: number; supervisorToken: string; demoOtp?: string; tls?: boolean }>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`the gateway did not start within 30 s (see e2e/artifacts/${logName})`)), 30_000);
    child.stdout?.on('data', (chunk: Buffer) => {
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
      await stopChild(child, 'SIGTERM', 5_000);
      log.end();
    },
  };
}
