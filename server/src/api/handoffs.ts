import express, { Router } from 'express';
import { CODE_FORMATS, DidPoolError, HandoffCodeError, HandoffStoreUnavailable, validateTransaction, type CodeFormat, type DidPool, type FieldNames, type HandoffCodeStore, type RawFields, type TransactionLimits, type TxnField } from '../handoff/index.js';
import { requireToken, type Principal } from './auth.js';

/** JSON field names of `POST /api/handoffs` (the same names as the Transaction). */
const JSON_NAMES: FieldNames = {
  amount: 'amount', currency: 'currency', merchantId: 'merchantId', orderRef: 'orderRef', customerMobile: 'customerMobile',
  agentId: 'agentId', language: 'language', returnTo: 'returnTo', txnRef: 'txnRef',
};
const FIELDS = Object.keys(JSON_NAMES) as TxnField[];

/** Body fields that are no transaction field: how the handoff is carried. */
const VIA = ['code', 'did'] as const;

/**
 * `POST /api/handoffs` (profile `api`): the call centre's system registers a transaction with its API
 * key and gets a single-use code that expires in minutes; the transfer then carries only the code,
 * as `X-Pay-Handoff: <code>` or as the Request-URI `sip:pay-<code>@gateway`. `"format": "numeric"`
 * (or `"alnum"`) picks the code's form when the api profile allows it (`api.formatChoice`; its
 * `api.codeFormat` otherwise). `"via": "did"` reserves a free DID of the pool instead
 * (`routing.didPool`): the agent blind-transfers to that number, with no header and no code, and
 * the gateway takes the reservation once. Every DID taken: 503 with Retry-After (the seconds until
 * the soonest reservation lapses, RFC 9110 10.2.3), nothing reserved. The shared store (Redis) not
 * answering: 503 `store-unavailable` with Retry-After: 5, nothing issued.
 *
 * `sipUri` is dialable exactly as returned: `host:port` unless the port is 5060, the default port
 * of a `sip:` URI (RFC 3261 19.1.2); an IPv6 host in brackets (RFC 3261 25.1 IPv6reference).
 */
export function sipHostPort(host: string, port: number): string {
  const h = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return port === 5060 ? h : `${h}:${port}`;
}

export function handoffsRouter(
  codes: HandoffCodeStore,
  resolve: (token: string) => Principal | undefined,
  /** sipAuthority: the gateway's SIP `host[:port]`, read per request (the port is known once SIP listens). */
  opts: {
    sipAuthority: () => string; limits?: TransactionLimits; mobileAllowed?: (mobile: string) => boolean; requestUriPrefix?: string;
    /** The api profile's code format, and whether a request may ask the other one. */
    codeFormat?: CodeFormat; formatChoice?: boolean;
    /** The DID pool (`"via": "did"`); unset or empty: no pool. */
    pool?: DidPool;
  },
): Router {
  const r = Router();
  r.post('/api/handoffs', requireToken(resolve, ['handoff-client']), express.json({ limit: '8kb' }), async (req, res, next) => {
    try {
      const body: unknown = req.body;
      if (typeof body !== 'object' || body === null || Array.isArray(body)) {
        res.status(400).json({ error: 'bad-request', message: 'the body must be a JSON object' });
        return;
      }
      const raw: RawFields = {};
      const { via = 'code', format = opts.codeFormat ?? 'alnum', ...fields } = body as Record<string, unknown>;
      if (typeof via !== 'string' || !(VIA as readonly string[]).includes(via)) {
        res.status(400).json({ error: 'bad-request', field: 'via', message: 'must be "code" or "did"' });
        return;
      }
      if (typeof format !== 'string' || !(CODE_FORMATS as readonly string[]).includes(format)) {
        res.status(400).json({ error: 'bad-request', field: 'format', message: 'must be "alnum" or "numeric"' });
        return;
      }
      if (format !== (opts.codeFormat ?? 'alnum') && !opts.formatChoice) {
        res.status(400).json({ error: 'bad-request', field: 'format', message: `this gateway's codes are ${opts.codeFormat ?? 'alnum'} (sip-profiles/api.json api.formatChoice is off)` });
        return;
      }
      if (via === 'did' && !opts.pool?.dids.length) {
        res.status(400).json({ error: 'bad-request', field: 'via', message: 'no DID pool is configured (routing.didPool)' });
        return;
      }
      for (const [k, v] of Object.entries(fields)) {
        if (!FIELDS.includes(k as TxnField)) {
          res.status(400).json({ error: 'bad-request', field: k.slice(0, 64), message: 'unknown field' });
          return;
        }
        if (typeof v !== 'string') {
          res.status(400).json({ error: 'bad-request', field: k, message: 'must be a string' });
          return;
        }
        raw[k as TxnField] = v;
      }
      const v = validateTransaction(raw, JSON_NAMES, opts.limits);
      if (!v.ok) {
        res.status(400).json({ error: 'bad-request', field: v.error.field, message: v.error.reason });
        return;
      }
      // The country check happens again when the code is redeemed; refusing here saves a wasted transfer (docs/security.md).
      if (opts.mobileAllowed && !opts.mobileAllowed(v.txn.customerMobile)) {
        res.status(403).json({ error: 'forbidden', field: 'customerMobile', message: 'country code not allowed (ALLOWED_MOBILE_PREFIXES)' });
        return;
      }
      if (via === 'did') {
        const held = await opts.pool!.reserve(v.txn);
        res.status(201).json({ via: 'did', did: held.did, expiresAt: new Date(held.expiresAt).toISOString(), sipUri: `sip:${held.did}@${opts.sipAuthority()}` });
        return;
      }
      const issued = await codes.issue(v.txn, format as CodeFormat);
      res.status(201).json({
        via: 'code',
        code: issued.code,
        expiresAt: new Date(issued.expiresAt).toISOString(),
        sipUri: `sip:${opts.requestUriPrefix ?? 'pay-'}${issued.code}@${opts.sipAuthority()}`, // the api profile's requestUriPrefix (sip-profiles/api.json)
        header: `X-Pay-Handoff: ${issued.code}`,
      });
    } catch (err) {
      if (err instanceof DidPoolError) {
        res.status(503).set('Retry-After', String(err.retryAfterS)).json({ error: 'pool-exhausted', message: 'every DID of the pool is reserved; retry after Retry-After seconds' });
        return;
      }
      if (err instanceof HandoffCodeError) {
        res.status(503).set('Retry-After', '5').json({ error: 'busy', message: 'too many open handoffs; retry shortly' });
        return;
      }
      if (err instanceof HandoffStoreUnavailable) {
        // The Redis link logs the outage itself (once, "redis down: ..."), not once per request.
        res.status(503).set('Retry-After', '5').json({ error: 'store-unavailable', message: 'the shared handoff store (Redis) did not answer; nothing was issued; retry after Retry-After seconds' });
        return;
      }
      next(err);
    }
  });
  return r;
}
