/**
 * How the bank's OTP (RBI's additional factor of authentication for card-not-present payments)
 * is obtained, per provider and per merchant (docs/operations.md, "OTP modes"):
 *
 * - `gateway-sms`: the provider generates the OTP and returns it; the gateway sends it by DLT SMS
 *   and has the provider validate what the customer keyed (`POST /v1/otp`, `.../validate`).
 * - `issuer`: the provider's native-OTP flow: the payment request starts authentication, the bank
 *   sends the OTP itself, the gateway captures it (masked, like the CVV) and submits it
 *   (`POST /v1/payments/issuer-otp`, `.../{paymentId}/otp`, `.../otp/resend`).
 * - `none`: no OTP step (the provider decides whether it accepts the payment without one).
 */
export const OTP_MODES = ['gateway-sms', 'issuer', 'none'] as const;
export type OtpMode = (typeof OTP_MODES)[number];

export interface OtpModePolicy {
  /** The provider's mode. */
  readonly default: OtpMode;
  /** Per merchant ID, overriding the default. */
  readonly merchants?: ReadonlyMap<string, OtpMode> | undefined;
}

export function otpModeOf(policy: OtpModePolicy | undefined, merchantId: string): OtpMode {
  return policy?.merchants?.get(merchantId) ?? policy?.default ?? 'gateway-sms';
}

const isMode = (s: string): s is OtpMode => (OTP_MODES as readonly string[]).includes(s);

/**
 * `M-1:issuer,M-2:none` -> a map. Throws RangeError naming the bad entry (never silently dropped:
 * a merchant that should be on `issuer` must not fall back to another mode by a typo).
 */
export function parseMerchantOtpModes(text: string): Map<string, OtpMode> {
  const out = new Map<string, OtpMode>();
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const i = part.lastIndexOf(':');
    const id = part.slice(0, Math.max(0, i));
    const mode = part.slice(i + 1);
    if (i <= 0 || !/^[A-Za-z0-9._-]{1,128}$/.test(id) || !isMode(mode)) {
      throw new RangeError(`"${part.slice(0, 140)}" must be merchantId:${OTP_MODES.join('|')}`);
    }
    out.set(id, mode);
  }
  return out;
}
