import type { Clock } from '../lib/clock.js';
import type { Transaction } from '../handoff/index.js';
import type { Logger } from '../observability/logger.js';
import type { EventBus, SessionStore } from '../store/index.js';
import type { DigitsFactory } from './card-data.js';
import type { CaptureConfig } from './config.js';
import type { SessionEvent } from './events.js';
import type { CapturePayments, CapturePort, CaptureSms, OtpSmsTemplate, ReceiptSmsTemplate } from './port.js';

/** What a CaptureSession (session.ts) and its runtime (session-runtime.ts) are built from. */
export interface CaptureSessionDeps {
  /** Validated by handoff/ (extractHandoff). */
  readonly txn: Transaction;
  readonly port: CapturePort;
  readonly payment: CapturePayments;
  readonly sms: CaptureSms;
  /** `receipt`: the receipt SMS after `paid`; absent: none is sent. */
  readonly templates: { readonly otp: OtpSmsTemplate; readonly receipt?: ReceiptSmsTemplate | undefined };
  readonly clock: Clock;
  readonly bus: EventBus<SessionEvent>;
  readonly store: SessionStore;
  readonly logger: Logger;
  readonly config?: Partial<CaptureConfig>;
  readonly id?: string;
  /** This gateway instance (session records). Default `local`. */
  readonly instanceId?: string;
  /** Wall clock, epoch ms (event times, expiry checks). */
  readonly nowEpochMs?: () => number;
  readonly newIdempotencyKey?: () => string;
  /** Makes the sensitive buffers (tests keep references to check they are wiped). */
  readonly digits?: DigitsFactory;
}
