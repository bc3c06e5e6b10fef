import type { SensitiveDigits } from '../../security/sensitive-digits.js';
import type { CaptureField, FieldFailureReason, FieldStartedEvent } from '../events.js';
import type { FieldWhy } from '../machine.js';
import type { PromptId, PromptItem } from '../prompts.js';

/** A field's particulars: the per-field unit (pan.ts, expiry.ts, cvv.ts, otp.ts). */
export interface FieldSpec {
  readonly field: CaptureField;
  /** Where the digits live; zeroed by clear() and, when the attempt ends, dispose(). */
  readonly buffer: SensitiveDigits;
  /** Digits accepted; the field is submitted by itself at `max`. */
  length(): { min: number; max: number };
  /** What the customer hears on entering the field, after an optional lead-in. */
  prompt(lead: PromptId | undefined): PromptItem[];
  /** `#` submits what was typed (the PAN). */
  readonly hashSubmits: boolean;
  /** `#` asks for a new OTP (the OTP field: its length is fixed, so `#` has no other use). */
  readonly hashResends: boolean;
  /** The inter-digit timeout submits when at least `min` digits were typed. */
  readonly submitOnPause: boolean;
  /** After each digit (brand detection on the PAN). */
  onDigit?(): void;
  /** Local validation when the field is submitted. */
  validate(): { ok: true } | { ok: false; reason: FieldFailureReason };
  /** The field passed validation (the PAN publishes its masked card). */
  onValid?(): void;
  /** Back to an empty field (brand detection state). */
  onClear?(): void;
}

type FieldEvent =
  | Omit<FieldStartedEvent, 'sessionId' | 'agentId' | 'seq' | 'at'>
  | { type: 'digit.entered'; field: CaptureField; count: number }
  | { type: 'field.cleared'; field: CaptureField; by: 'customer' | 'gateway' }
  | { type: 'field.completed'; field: CaptureField }
  | { type: 'field.failed'; field: CaptureField; reason: FieldFailureReason; attemptsLeft: number };

/** What a step may do to the world; the session implements it. */
export interface StepHost {
  play(items: PromptItem[], onDone: () => void): void;
  stopPrompt(): void;
  /** One field timer at a time: starting one cancels the previous. */
  startTimer(ms: number, fn: () => void): void;
  cancelTimer(): void;
  publish(e: FieldEvent): void;
  /** Machine events. */
  done(): void;
  exhausted(): void;
  resend(): void;
  readonly firstDigitMs: number;
  readonly interDigitMs: number;
  readonly maxAttempts: number;
}

const INVALID_PROMPT: Record<FieldFailureReason, PromptId> = {
  'no-input': 'invalid.no-input',
  incomplete: 'invalid.incomplete',
  'bad-length': 'invalid.pan',
  luhn: 'invalid.pan',
  'brand-not-allowed': 'invalid.brand',
  'card-refused': 'invalid.brand',
  'bad-month': 'invalid.expiry',
  'too-far': 'invalid.expiry',
  expired: 'invalid.expired',
  'otp-invalid': 'invalid.otp',
};

/**
 * One capture step (docs/architecture.md practice 12): enter / digit / promptDone / timeout / exit around a
 * {@link FieldSpec}. Keypad rules of the contract: digits during the prompt cut it short and count;
 * `*` clears the field; `#` ends the PAN; a field submits itself at its full length; an invalid
 * field is re-prompted; `maxAttempts` failures end the attempt.
 */
export class FieldStep {
  #phase: 'idle' | 'prompting' | 'collecting' = 'idle';
  #failures = 0;
  /** Attempts left after the latest failure (announced with the re-prompt). */
  #attemptsLeft: number | undefined;

  constructor(
    readonly spec: FieldSpec,
    private readonly host: StepHost,
  ) {}

  get failures(): number {
    return this.#failures;
  }

  get active(): boolean {
    return this.#phase !== 'idle';
  }

  enter(why: FieldWhy, lead?: PromptId): void {
    this.clear('gateway');
    this.#phase = 'prompting';
    const len = this.spec.length();
    this.host.publish({ type: 'field.started', field: this.spec.field, attempt: this.#failures + 1, length: len, why });
    const items = this.spec.prompt(lead);
    // After a failure the caller hears how many attempts are left, right after what was wrong.
    if (why === 'after-failure' && this.#attemptsLeft !== undefined && lead !== undefined && items[0] === lead) {
      items.splice(1, 0, { id: 'attempts.left', n: this.#attemptsLeft });
    }
    this.host.play(items, () => this.promptDone());
  }

  /** The field's prompt finished (or its watchdog fired): wait for the first digit. */
  promptDone(): void {
    if (this.#phase !== 'prompting') return;
    this.#phase = 'collecting';
    this.host.startTimer(this.host.firstDigitMs, () => this.timeout());
  }

  digit(key: string): void {
    if (this.#phase === 'idle') return;
    const { spec } = this;
    if (key === '#') {
      if (spec.hashResends) {
        this.#bargeIn();
        this.host.resend();
      } else if (spec.hashSubmits && spec.buffer.length > 0) {
        this.#bargeIn();
        this.#submit();
      }
      return;
    }
    if (key === '*') {
      this.#bargeIn();
      this.clear('customer');
      this.host.startTimer(this.host.firstDigitMs, () => this.timeout());
      return;
    }
    if (!/^[0-9]$/.test(key) || spec.buffer.isFull) return; // A-D: not ours
    this.#bargeIn();
    spec.buffer.append(key);
    const count = spec.buffer.length;
    this.host.publish({ type: 'digit.entered', field: spec.field, count });
    spec.onDigit?.();
    if (count >= spec.length().max) return this.#submit();
    this.host.startTimer(this.host.interDigitMs, () => this.timeout());
  }

  /** First-digit or inter-digit timer. */
  timeout(): void {
    if (this.#phase !== 'collecting') return;
    const n = this.spec.buffer.length;
    if (n === 0) return void this.fail('no-input');
    if (this.spec.submitOnPause && n >= this.spec.length().min) return this.#submit();
    this.fail('incomplete');
  }

  exit(): void {
    this.#phase = 'idle';
    this.host.cancelTimer();
  }

  /**
   * Counts a failure and tells the agent; true when it was the last one allowed. `providerLeft`
   * caps what is left (the provider's own OTP attempt count).
   */
  recordFailure(reason: FieldFailureReason, providerLeft?: number): boolean {
    this.#failures++;
    let left = Math.max(0, this.host.maxAttempts - this.#failures);
    if (providerLeft !== undefined) left = Math.min(left, providerLeft);
    this.#attemptsLeft = left;
    this.host.publish({ type: 'field.failed', field: this.spec.field, reason, attemptsLeft: left });
    this.clear('gateway');
    return left === 0;
  }

  /** A local failure: re-prompt, or end the attempt after the last one. */
  fail(reason: FieldFailureReason): void {
    this.host.cancelTimer();
    if (this.recordFailure(reason)) {
      this.exit();
      this.host.exhausted();
    } else {
      this.enter('after-failure', INVALID_PROMPT[reason]);
    }
  }

  #submit(): void {
    this.host.cancelTimer();
    const v = this.spec.validate();
    if (!v.ok) return this.fail(v.reason);
    this.spec.onValid?.();
    this.host.publish({ type: 'field.completed', field: this.spec.field });
    this.exit();
    this.host.done();
  }

  #bargeIn(): void {
    if (this.#phase === 'prompting') {
      this.host.stopPrompt();
      this.#phase = 'collecting';
    }
  }

  /** Empties the field (telling the agent when it held digits, or when the customer pressed `*`). */
  clear(by: 'customer' | 'gateway'): void {
    const had = !this.spec.buffer.disposed && this.spec.buffer.length > 0;
    if (!this.spec.buffer.disposed) this.spec.buffer.clear();
    this.spec.onClear?.();
    if (had || by === 'customer') this.host.publish({ type: 'field.cleared', field: this.spec.field, by });
  }
}
