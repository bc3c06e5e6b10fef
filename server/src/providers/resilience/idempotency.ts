import { randomUUID } from 'node:crypto';

/**
 * One `Idempotency-Key` per payment attempt (a pay() call), reused verbatim on every retry of that
 * attempt so the provider charges at most once (draft-ietf-httpapi-idempotency-key-header §2:
 * "the same idempotency key ... for the retried request"; a UUID v4 is its recommended form).
 */
export function newIdempotencyKey(): string {
  return randomUUID();
}

/** Keys we accept: 1-255 visible ASCII characters without spaces (the demo provider enforces the same). */
export const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;
