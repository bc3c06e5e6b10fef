export { startDemoProvider, type DemoProvider, type DemoProviderOptions, type DemoRequest } from './provider.js';
export type { DemoPaymentRecord } from './payments.js';
export type { DemoSms } from './sms.js';
export { DEMO_CARDS, DEMO_TRANSACTIONS, type DemoTransaction } from './seed.js';
export { OTP_LENGTH } from './otp.js';
