export { CaptureSession, type CaptureSessionDeps, type CaptureResult, type CaptureSessionEvents } from './session.js';
export type {
  CapturePort,
  CaptureInputs,
  CaptureMode,
  CapturePayments,
  CaptureSms,
  CommandResult,
  OtpSmsTemplate,
  OtpTemplateVar,
  ReceiptSmsTemplate,
  ReceiptTemplateVar,
} from './port.js';
export { assertReceiptTemplate } from './receipt.js';
export {
  CaptureState,
  CAPTURE_TABLE,
  FIELD_OF_STATE,
  nextCapture,
  type CaptureEvent,
  type CaptureEventType,
  type CaptureAction,
  type MachineContext,
  type Transition,
  type FieldWhy,
} from './machine.js';
export * from './events.js';
export { PROMPTS, renderPrompt, promptIds, type PromptId, type PromptItem, type PromptSpec } from './prompts.js';
export { amountToWords, numberToWords, type WordsLanguage } from './amount-words.js';
export { DEFAULT_CAPTURE_CONFIG, type CaptureConfig } from './config.js';
export { CardData, defaultDigits, type DigitsFactory } from './card-data.js';
