import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/observability/logger.js';
import { ProviderError, runIssuerSubmit } from '../../../src/providers/index.js';
import { LogSink } from '../../support/gateway.js';

const logger = createLogger('silent', new LogSink());
const failing = (code: ConstructorParameters<typeof ProviderError>[0]) => async () => {
  throw new ProviderError(code, true);
};

describe('runIssuerSubmit (the OTP submission that charges the card)', () => {
  it('maps the provider answers', async () => {
    const status = async () => ({ status: 'not-found' as const });
    expect(await runIssuerSubmit({ post: async () => ({ paymentId: 'p', status: 'approved' as const }), status, logger })).toEqual({ status: 'approved', paymentId: 'p' });
    expect(await runIssuerSubmit({ post: async () => ({ paymentId: 'p', status: 'declined' as const }), status, logger })).toEqual({ status: 'declined', paymentId: 'p', reason: 'declined' });
    expect(await runIssuerSubmit({ post: async () => ({ paymentId: 'p', status: 'otp-invalid' as const, attemptsLeft: 2 }), status, logger })).toEqual({ status: 'invalid', attemptsLeft: 2 });
    expect(await runIssuerSubmit({ post: async () => ({ paymentId: 'p', status: 'otp-expired' as const }), status, logger })).toEqual({ status: 'expired' });
  });

  it.each(['timeout', 'network', 'server-error', 'bad-response', 'conflict'] as const)('%s: the status by key decides (approved settles it, pending needs reconciliation)', async (code) => {
    expect(await runIssuerSubmit({ post: failing(code), status: async () => ({ status: 'approved' as const, paymentId: 'p' }), logger })).toEqual({ status: 'approved', paymentId: 'p' });
    expect(await runIssuerSubmit({ post: failing(code), status: async () => ({ status: 'pending' as const }), logger })).toEqual({ status: 'failed', reason: code, needsReconciliation: true });
    expect(await runIssuerSubmit({ post: failing(code), status: failing('timeout'), logger })).toEqual({ status: 'failed', reason: code, needsReconciliation: true });
  });

  it.each(['unreachable', 'breaker-open', 'rejected', 'rate-limited'] as const)('%s: nothing reached the bank, no status query, no reconciliation', async (code) => {
    let asked = 0;
    const r = await runIssuerSubmit({ post: failing(code), status: async () => (asked++, { status: 'approved' as const, paymentId: 'p' }), logger });
    expect(r).toEqual({ status: 'failed', reason: code, needsReconciliation: false });
    expect(asked).toBe(0);
  });
});
