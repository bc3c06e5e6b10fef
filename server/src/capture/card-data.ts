import { SensitiveDigits } from '../security/sensitive-digits.js';

/** Makes the sensitive buffers (a seam: tests keep references to check they were wiped). */
export type DigitsFactory = (capacity: number) => SensitiveDigits;

export const defaultDigits: DigitsFactory = (capacity) => new SensitiveDigits(capacity);

/**
 * Every piece of card data of one attempt, in SensitiveDigits only (docs/architecture.md: "in buffers that are
 * zeroed when the attempt ends"). dispose() wipes all of them, whatever the outcome.
 */
export class CardData {
  readonly pan: SensitiveDigits;
  /** MMYY */
  readonly expiry: SensitiveDigits;
  readonly cvv: SensitiveDigits;
  /** What the customer keyed. */
  readonly otp: SensitiveDigits;
  /** The OTP the provider issued, held only until it is in the SMS. */
  #issued: SensitiveDigits | undefined;
  #disposed = false;

  constructor(make: DigitsFactory = defaultDigits) {
    this.pan = make(19);
    this.expiry = make(4);
    this.cvv = make(4);
    this.otp = make(8);
  }

  get disposed(): boolean {
    return this.#disposed;
  }

  /** The provider's OTP, while it waits to go into the SMS. */
  get issuedOtp(): SensitiveDigits | undefined {
    return this.#issued;
  }

  /** Takes ownership of the provider's OTP (a previous one is wiped). */
  holdIssued(otp: SensitiveDigits): void {
    this.#issued?.dispose();
    if (this.#disposed) otp.dispose();
    else this.#issued = otp;
  }

  /** Wipes the provider's OTP once it has gone out in the SMS (or could not). */
  dropIssued(): void {
    this.#issued?.dispose();
    this.#issued = undefined;
  }

  dispose(): void {
    this.#disposed = true;
    for (const d of [this.pan, this.expiry, this.cvv, this.otp]) d.dispose();
    this.dropIssued();
  }
}
