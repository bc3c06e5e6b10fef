import { z } from 'zod';
import { OUTCOMES } from '../store/index.js';
import type { SessionEvent } from './events.js';

/**
 * The shape of every {@link SessionEvent}, strict (no key the type does not name), for events that
 * come from outside this process: the Redis channel and streams (docs/security.md: whoever can
 * write to Redis must not be able to push arbitrary frames, or card data, to the widgets). Short
 * strings only; `first6`/`last4` must be digits of those lengths; a masked mobile keeps at most
 * 4 digits in the clear.
 */
const field = z.enum(['pan', 'expiry', 'cvv', 'otp']);
const text = (max: number) => z.string().max(max).refine((s) => ![...s].some((c) => c.charCodeAt(0) < 0x20), 'no control characters');
const base = {
  sessionId: z.string().regex(/^[A-Za-z0-9._-]{1,128}$/),
  seq: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  at: z.string().datetime({ offset: true }),
};
const ev = <T extends string, S extends z.ZodRawShape>(type: T, shape: S) => z.object({ type: z.literal(type), ...base, ...shape }).strict();

export const sessionEventSchema = z.discriminatedUnion('type', [
  ev('session.started', {
    orderRef: text(64), amount: z.string().regex(/^\d{1,12}(\.\d{1,3})?$/), currency: z.string().regex(/^[A-Z]{3}$/),
    merchantId: text(64), agentId: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/).nullable(), language: z.enum(['en', 'hi']),
  }),
  ev('field.started', {
    field, attempt: z.number().int().min(1).max(100), length: z.object({ min: z.number().int().min(0).max(19), max: z.number().int().min(0).max(19) }).strict(),
    why: z.enum(['first', 'after-failure', 'agent-retry', 'new-otp', 'repeat']),
  }),
  ev('digit.entered', { field, count: z.number().int().min(0).max(19) }),
  ev('field.cleared', { field, by: z.enum(['customer', 'gateway']) }),
  ev('card.identified', { brand: z.string().regex(/^[a-z]{2,16}$/), complete: z.boolean(), first6: z.string().regex(/^\d{6}$/).optional(), last4: z.string().regex(/^\d{4}$/).optional() }),
  ev('field.completed', { field }),
  ev('field.failed', {
    field,
    reason: z.enum(['no-input', 'incomplete', 'bad-length', 'luhn', 'brand-not-allowed', 'card-refused', 'bad-month', 'expired', 'too-far', 'otp-invalid']),
    attemptsLeft: z.number().int().min(0).max(100),
  }),
  ev('otp.sent', {
    mobile: z.string().max(24).refine((m) => (m.match(/\d/g) ?? []).length <= 6, 'a masked mobile'),
    route: text(64), resend: z.number().int().min(0).max(100), failedRoutes: z.array(text(64)).max(10),
  }),
  ev('payment.processing', { stage: z.enum(['otp-validate', 'payment', 'confirm']) }),
  ev('provider.issue', {
    step: z.enum(['breaker', 'otp-generate', 'sms', 'otp-validate', 'payment', 'confirm']), code: text(64),
    action: z.enum(['refused', 'second-route', 'offer-resend', 'ended', 'reconcile']),
  }),
  ev('prompt.playing', { prompts: z.array(z.string().regex(/^[a-z0-9._-]{1,64}$/)).max(50) }),
  ev('session.ended', { outcome: z.enum(OUTCOMES), reason: text(128), paymentId: text(128).optional(), needsReconciliation: z.boolean().optional() }),
]);

/** The event when `value` is a well-formed {@link SessionEvent}, else undefined. */
export function parseSessionEvent(value: unknown): SessionEvent | undefined {
  const r = sessionEventSchema.safeParse(value);
  return r.success ? (r.data as SessionEvent) : undefined;
}
