/** SIP Digest authentication (RFC 3261 22.4, RFC 2617, RFC 7616, RFC 8760). Protocol only. */
export {
  DigestLimits,
  parseAuthorization,
  parseAuthParams,
  readQuotedString,
  type AuthParams,
  type DigestCredentials,
  type ParseError,
} from './digest-parse.js';
export {
  DEFAULT_ALGORITHMS_BY_TRANSPORT,
  DIGEST_ALGORITHMS,
  DIGEST_HEX_LENGTH,
  computeDigestResponse,
  digestHash,
  normalizeAlgorithm,
  offeredAlgorithms,
  type DigestAlgorithm,
  type DigestResponseInput,
} from './digest.js';
export { NonceSigner, type NonceCheck } from './nonce.js';
export {
  DigestAuthenticator,
  type DigestAuthenticatorOptions,
  type VerifyFailure,
  type VerifyResult,
} from './authenticator.js';
