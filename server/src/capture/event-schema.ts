import { z } from 'zod';
import { CAPTURE_FIELDS, LANGUAGE_CODE, OUTCOMES, type SessionEvent } from '../contract/events.js';

/**
 * The capture events of the wire contract (../contract/events.ts) as a runtime schema: what a
 * test holds the widget's recorded fixtures and the events a real capture publishes against.
 * `.strict()` everywhere, so an event with any other field (a stray digit, say) is refused.
 */
const field = z.enum(CAPTURE_FIELDS as [string, ...string[]]).transform((f) => f as (typeof CAPTURE_FIELDS)[number]);
const base = {
  sessionId: z.string().min(1).max(128),
  agentId: z.string().min(1).max(128).nullable(),
  seq: z.number().int().positive(),
  at: z.string().datetime({ offset: true }),
};
const ev = <T extends string, S extends z.ZodRawShape>(type: T, shape: S) => z.object({ type: z.literal(type), ...base, ...shape }).strict();
const failureReasons = ['no-input', 'incomplete', 'bad-length', 'luhn', 'brand-not-allowed', 'card-refused', 'bad-month', 'expired', 'too-far', 'otp-invalid'] as const;

export const sessionEventSchema = z.discriminatedUnion('type', [
  ev('session.started', {
    orderRef: z.string(), amount: z.string().regex(/^\d{1,12}(\.\d{1,2})?$/), currency: z.string().regex(/^[A-Z]{3}$/), merchantId: z.string(), language: z.string().regex(LANGUAGE_CODE),
  }),
  ev('field.started', {
    field, attempt: z.number().int().positive(), length: z.object({ min: z.number().int(), max: z.number().int() }).strict(),
    why: z.enum(['first', 'after-failure', 'agent-retry', 'new-otp', 'repeat']),
  }),
  ev('digit.entered', { field, count: z.number().int().nonnegative() }),
  ev('field.cleared', { field, by: z.enum(['customer', 'gateway']) }),
  ev('card.identified', { brand: z.string().regex(/^[a-z]{2,16}$/), complete: z.boolean(), first6: z.string().regex(/^\d{6}$/).optional(), last4: z.string().regex(/^\d{4}$/).optional() }),
  ev('field.completed', { field }),
  ev('field.failed', { field, reason: z.enum(failureReasons), attemptsLeft: z.number().int().nonnegative() }),
  ev('otp.sent', { mobile: z.string().regex(/^[+\d]{0,3}•{5}\d{0,4}$/), route: z.string(), resend: z.number().int().nonnegative(), failedRoutes: z.array(z.string()) }),
  ev('payment.processing', { stage: z.enum(['otp-validate', 'payment', 'confirm']) }),
  ev('provider.issue', {
    step: z.enum(['breaker', 'otp-generate', 'sms', 'otp-validate', 'payment', 'confirm']), code: z.string(),
    action: z.enum(['refused', 'second-route', 'offer-resend', 'ended', 'reconcile']),
  }),
  ev('prompt.playing', { prompts: z.array(z.string()) }),
  ev('session.ended', { outcome: z.enum(OUTCOMES), reason: z.string(), paymentId: z.string().optional(), needsReconciliation: z.boolean().optional(), provider: z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/).optional() }),
  ev('session.reconciled', {
    outcome: z.enum(OUTCOMES), previousOutcome: z.enum(OUTCOMES), providerStatus: z.enum(['approved', 'declined', 'not-found']), reason: z.string(), paymentId: z.string().optional(),
  }),
]);

// Compile-time: whatever the schema accepts is a SessionEvent, and every SessionEvent type has a branch.
const _accepts: z.ZodType<SessionEvent, z.ZodTypeDef, unknown> = sessionEventSchema;
void _accepts;
type Covered = z.infer<typeof sessionEventSchema>['type'];
const _covers: SessionEvent['type'] extends Covered ? true : never = true;
void _covers;

/** The event when `value` is a well-formed {@link SessionEvent} (events read from Redis are checked with it), else undefined. */
export function parseSessionEvent(value: unknown): SessionEvent | undefined {
  const r = sessionEventSchema.safeParse(value);
  return r.success ? (r.data as SessionEvent) : undefined;
}
