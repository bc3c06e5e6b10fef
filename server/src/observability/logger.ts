import { pino, type Logger } from 'pino';

/**
 * JSON logger. Card data never reaches a log (docs/architecture.md); these paths are redacted as a second
 * line of defence should a sensitive field ever be passed by mistake.
 */
export const REDACT_PATHS = [
  'pan', '*.pan', 'cvv', '*.cvv', 'otp', '*.otp', 'expiry', '*.expiry',
  'card.number', '*.card.number', 'authorization', '*.authorization', 'password', '*.password',
];

export type { Logger };

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  const opts = { level, base: { svc: 'tonegate' }, redact: { paths: REDACT_PATHS, censor: '[redacted]' } };
  return destination ? pino(opts, destination) : pino(opts);
}

/** A logger that discards everything (unit tests). */
export const silentLogger: Logger = pino({ level: 'silent' });
