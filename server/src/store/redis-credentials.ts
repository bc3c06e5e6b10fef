import { readFileSync } from 'node:fs';
import type { Config } from '../config/schema.js';

/** REDIS_PASSWORD (from the environment or REDIS_PASSWORD_FILE, read by config/load.ts) and REDIS_TLS_CA_FILE, read at start; a file that cannot be read stops the start naming it. */
export function redisCredentials(config: Config): { redisPassword?: string; redisTlsCa?: Buffer } {
  const read = (name: string, file: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new Error(`${name}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
  };
  // PCI DSS 4.2.1: in production the session store's traffic is encrypted too (docs/security.md).
  if (config.TONEGATE_MODE === 'production' && config.REDIS_URL && !/^rediss:/i.test(config.REDIS_URL)) {
    throw new Error('REDIS_URL: production needs rediss:// (Redis over TLS)');
  }
  const password = config.REDIS_PASSWORD;
  return {
    ...(password ? { redisPassword: password } : {}),
    ...(config.REDIS_TLS_CA_FILE ? { redisTlsCa: read('REDIS_TLS_CA_FILE', config.REDIS_TLS_CA_FILE) } : {}),
  };
}
