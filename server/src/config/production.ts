import { accessSync, constants } from 'node:fs';
import { isHashed, parseHashed } from '../security/credentials.js';
import type { Config } from './schema.js';
import { providerUrlProblems } from './provider-plan.js';
import { DEMO_SMS } from './sms.js';

/**
 * What production mode requires before it starts (docs/security.md, "Production mode"), one line
 * per missing item, each naming the variable to set. Only names and paths are printed, never a
 * secret's value.
 */
export function productionProblems(c: Config): string[] {
  const out: string[] = [];
  for (const name of ['TLS_CERT_FILE', 'TLS_KEY_FILE'] as const) {
    const path = c[name];
    if (!path) {
      out.push(`${name}: required in production (PEM ${name === 'TLS_CERT_FILE' ? 'certificate' : 'private key'} for SIP over TLS and HTTPS)`);
      continue;
    }
    try {
      accessSync(path, constants.R_OK);
    } catch (err) {
      out.push(`${name}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  if (c.TLS_SELF_SIGNED) out.push('TLS_SELF_SIGNED: a generated self-signed certificate is for trying TLS, not for production; unset it and give TLS_CERT_FILE/TLS_KEY_FILE');

  const plain = c.AGENTS.filter((a) => !isHashed(a.password)).map((a) => a.id);
  if (c.AGENTS.length === 0) out.push('AGENTS: required in production (or AGENTS_FILE): id:$tg1$... entries made by npm run credential:hash -- <id>');
  else if (plain.length) {
    const demo = c.AGENTS.every((a) => a.password === 'demo');
    out.push(
      demo
        ? 'AGENTS: the demo agents are refused in production; give hashed credentials (npm run credential:hash -- <id>) in AGENTS or AGENTS_FILE'
        : `AGENTS: ${plain.join(', ')} ${plain.length === 1 ? 'has a plain password' : 'have plain passwords'}; production takes hashed entries only (npm run credential:hash -- <id>)`,
    );
  }
  // Named supervisors with TOTP (PCI DSS 8.2.1, 8.4.2); the static SUPERVISOR_TOKEN is optional
  // (machine clients), so there is no shared account people must sign in with.
  const plainSupervisors = c.SUPERVISORS.filter((s) => !isHashed(s.password)).map((s) => s.name);
  if (c.SUPERVISORS.length === 0) out.push('SUPERVISORS: required in production (or SUPERVISORS_FILE): named supervisor accounts name:$tg1$...:BASE32SECRET made by npm run credential:hash -- --supervisor <name>');
  else if (plainSupervisors.length) {
    out.push(`SUPERVISORS: ${plainSupervisors.join(', ')} ${plainSupervisors.length === 1 ? 'has a plain password' : 'have plain passwords'}; production takes hashed entries only (npm run credential:hash -- --supervisor <name>)`);
  }
  if (c.REQUIRE_SIGNATURE_V2 === false) out.push('REQUIRE_SIGNATURE_V2: production always requires v2 handoff signatures; unset it');
  const secrets = [
    ['HANDOFF_API_KEY', 'the API key of POST /api/handoffs'],
    ['HANDOFF_HMAC_KEY', 'the key that signs handoffs (X-Pay-Signature)'],
  ] as const;
  for (const [name, what] of secrets) if (!c[name]) out.push(`${name}: required in production (or ${name}_FILE): ${what}, at least 16 characters`);
  if (c.TRUSTED_PEERS.length === 0) out.push('TRUSTED_PEERS: required in production: the CIDRs or certificate fingerprints (sha256:...) allowed to start payments');
  out.push(...providerUrlProblems(c.providerPlan)); // every named provider (config/provider-plan.ts)
  if (!c.AUDIT_KEY) out.push('AUDIT_KEY: required in production (or AUDIT_KEY_FILE): the audit chain\'s HMAC key, hex or base64 of 32 bytes or more (openssl rand -hex 32)');
  // The widget's SIP WebSocket carries the agents' digest exchanges and call signalling: TLS only, like the pages (docs/security.md).
  if (c.SIP_WS_URL?.startsWith('ws:')) out.push('SIP_WS_URL: production takes a wss: URL only (SIP over secure WebSocket, RFC 7118)');
  if (c.DEMO_OTP) out.push('DEMO_OTP: demo only; unset it in production');
  out.push(...smsProblems(c));
  return out;
}

/**
 * SMS under DLT (docs/operations.md, "SMS under DLT"): operators scrub a message whose PE ID,
 * header or template is not the sender's own registration (TRAI TCCCPR 2018), so production
 * sends no SMS on the demo registration. Refused when something sends SMS (the gateway-sms OTP
 * mode, as otp.mode or for a merchant of otp.merchants; receipt SMS) and `sms:` is not in the
 * configuration file, or gives the demo PE ID.
 */
function smsProblems(c: Config): string[] {
  const merchants = (c.OTP_MODE_MERCHANTS ?? '').split(',').map((e) => e.trim().split(':')).filter(([, m]) => m === 'gateway-sms').map(([id]) => id!);
  const users = [
    ...(c.OTP_MODE === 'gateway-sms' ? ['otp.mode gateway-sms'] : []),
    ...(merchants.length ? [`otp.merchants ${merchants.join(', ')}: gateway-sms`] : []),
    ...(c.RECEIPT_SMS === 'on' ? ['receipts.sms on'] : []),
  ];
  if (!users.length) return [];
  if (!c.sms) return [`sms: required in production with ${users.join(', ')}: the configuration file's sms: section with your DLT PE ID, header and templates (the demo registration's messages are scrubbed)`];
  if (c.sms.peId === DEMO_SMS.peId) return [`sms.peId: ${DEMO_SMS.peId} is the demo DLT registration, refused in production; give your own PE ID, header and templates`];
  return [];
}

/** Hashed agent entries made for another digest realm cannot register over SIP (any mode). */
export function realmProblems(c: Config): string[] {
  const out: string[] = [];
  for (const a of c.AGENTS) {
    const h = parseHashed(a.password);
    if (h && h.realm !== c.SIP_REALM) out.push(`AGENTS: ${a.id} was hashed for realm "${h.realm}" but SIP_REALM is "${c.SIP_REALM}"; hash it again with --realm`);
  }
  return out;
}
