import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildWidget } from '../scripts/build-widget.mjs';
import { startCrm } from './support/crm-server.js';
import { startGatewayProcess } from './support/gateway-process.js';

/**
 * Builds the widget, then starts a real gateway (e2e/support/gateway-main.ts under tsx) on free
 * ports, with a stand-in CRM (support/crm-server.ts) as the one origin allowed to embed the widget.
 * Hands the addresses to the specs through TONEGATE_E2E_* variables. Returns the teardown.
 */
export default async function globalSetup(): Promise<() => Promise<void>> {
  await buildWidget({ quiet: true });
  mkdirSync(fileURLToPath(new URL('./artifacts/', import.meta.url)), { recursive: true });
  let gatewayUrl = '';
  const crm = await startCrm(() => `${gatewayUrl}/agent`);
  const crmOrigin = `http://localhost:${crm.port}`;
  // A named supervisor with a TOTP secret (base32 of "e2e-supervisor-totp-seed"), for the TOTP sign-in spec.
  const totpSecret = 'MUZGKLLTOVYGK4TWNFZW64RNORXXI4BNONSWKZA';
  process.env.TONEGATE_E2E_TOTP_SECRET = totpSecret;
  const gw = await startGatewayProcess({ WIDGET_EMBED_ORIGINS: crmOrigin, SUPERVISORS: `e2e-sup:e2e supervisor password:${totpSecret}` }, 'gateway.log');
  gatewayUrl = gw.url;
  process.env.TONEGATE_E2E_URL = gatewayUrl;
  process.env.TONEGATE_E2E_SIP_PORT = String(gw.sipPort);
  process.env.TONEGATE_E2E_CRM = crmOrigin;
  process.env.TONEGATE_E2E_OTHER_ORIGIN = `http://127.0.0.1:${crm.port}`;
  // For the supervisor dashboard spec: its sign-in token, and SIPp payments (SIP over UDP, demo OTP).
  process.env.TONEGATE_E2E_SIP = `127.0.0.1:${gw.sipPort}`;
  process.env.TONEGATE_E2E_SUPERVISOR_TOKEN = gw.supervisorToken;
  process.env.TONEGATE_E2E_OTP = gw.demoOtp ?? '';

  return async () => {
    crm.server.close();
    await gw.stop();
  };
}
