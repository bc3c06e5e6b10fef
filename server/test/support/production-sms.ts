/**
 * A deployment's own DLT registration (docs/operations.md, "SMS under DLT") as the configuration
 * file's `sms:` section: what production mode requires while the gateway texts the OTP
 * (`otp.mode: gateway-sms`, the default). Not the demo PE ID, which production refuses.
 */
export const PRODUCTION_SMS_YAML = [
  'sms:',
  '  peId: "1201000000000000001"',
  '  header: SHOPIN',
  '  templates:',
  '    otp:',
  '      en: { templateId: "1207000000000000001", text: "{#var#} is your OTP to pay {#var#} {#var#} for order {#var#}. - Shop", vars: [otp, currency, amount, orderRef] }',
  '',
].join('\n');
