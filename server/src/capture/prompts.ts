import type { Language } from '../handoff/index.js';
import { amountToWords, numberToWords } from './amount-words.js';

/**
 * The prompt catalogue: every sentence the customer can hear, in English and Hindi. The media side
 * renders them (espeak-ng) from {@link renderPrompt}'s text, or plays pre-recorded files named by id.
 * `{n}` is replaced by a number in words. Nothing here ever speaks card data back.
 */
export const PROMPTS = {
  'greeting.secure': {
    en: 'You are now on the secure payment line. Your agent cannot hear the numbers you key.',
    hi: 'आप अब सुरक्षित भुगतान लाइन पर हैं। आप जो नंबर दबाएँगे, वे आपके एजेंट को सुनाई नहीं देंगे।',
  },
  'greeting.amount': { en: 'You are paying', hi: 'आप भुगतान कर रहे हैं' },
  'enter.pan': { en: 'Please enter your card number, then press hash.', hi: 'कृपया अपना कार्ड नंबर दर्ज करें, फिर हैश दबाएँ।' },
  /** With no terminator (capture policy panTerminator none): the number ends at a pause or at its longest. */
  'enter.pan.no-hash': { en: 'Please enter your card number.', hi: 'कृपया अपना कार्ड नंबर दर्ज करें।' },
  'enter.expiry': {
    en: 'Please enter the expiry date: two digits for the month, then two digits for the year.',
    hi: 'कृपया समाप्ति तिथि दर्ज करें: महीने के दो अंक, फिर साल के दो अंक।',
  },
  'enter.cvv': { en: 'Please enter the {n} digit security code of your card.', hi: 'कृपया अपने कार्ड का {n} अंकों का सुरक्षा कोड दर्ज करें।' },
  'enter.otp': {
    en: 'Please enter the {n} digit one-time password sent to your mobile. To get a new one, press hash.',
    hi: 'कृपया आपके मोबाइल पर भेजा गया {n} अंकों का वन-टाइम पासवर्ड दर्ज करें। नया पासवर्ड पाने के लिए हैश दबाएँ।',
  },
  'star.clears': { en: 'To start a number again, press star.', hi: 'नंबर दोबारा शुरू करने के लिए स्टार दबाएँ।' },
  'agent.retry': { en: 'Your agent has asked you to enter this again.', hi: 'आपके एजेंट ने इसे दोबारा दर्ज करने के लिए कहा है।' },
  'invalid.no-input': { en: 'We did not receive any digits.', hi: 'हमें कोई अंक नहीं मिला।' },
  'invalid.incomplete': { en: 'That number is incomplete.', hi: 'यह नंबर अधूरा है।' },
  'invalid.pan': { en: 'That card number is not valid.', hi: 'यह कार्ड नंबर मान्य नहीं है।' },
  'invalid.brand': { en: 'This card type is not accepted for this payment.', hi: 'इस भुगतान के लिए यह कार्ड स्वीकार नहीं है।' },
  'invalid.expiry': { en: 'That expiry date is not valid.', hi: 'यह समाप्ति तिथि मान्य नहीं है।' },
  'invalid.expired': { en: 'That card has expired.', hi: 'इस कार्ड की अवधि समाप्त हो चुकी है।' },
  'invalid.otp': { en: 'That password is not correct.', hi: 'यह पासवर्ड सही नहीं है।' },
  'attempts.left': { en: 'Attempts left: {n}.', hi: 'बचे हुए प्रयास: {n}।' },
  'otp.sending': { en: 'Please wait while we send a one-time password to your mobile.', hi: 'कृपया प्रतीक्षा करें, हम आपके मोबाइल पर वन-टाइम पासवर्ड भेज रहे हैं।' },
  'otp.resent': { en: 'A new password is on its way.', hi: 'नया पासवर्ड भेजा जा रहा है।' },
  'otp.expired': { en: 'That password has expired.', hi: 'इस पासवर्ड की अवधि समाप्त हो गई है।' },
  'otp.no-more-resends': { en: 'No more new passwords can be sent.', hi: 'अब और नए पासवर्ड नहीं भेजे जा सकते।' },
  'otp.sms-failed': {
    en: 'We could not send the password to your mobile. Press hash to try again.',
    hi: 'हम आपके मोबाइल पर पासवर्ड नहीं भेज सके। दोबारा कोशिश करने के लिए हैश दबाएँ।',
  },
  'otp.unavailable': { en: 'We cannot send a one-time password right now.', hi: 'हम अभी वन-टाइम पासवर्ड नहीं भेज सकते।' },
  processing: { en: 'Please wait while we process your payment.', hi: 'कृपया प्रतीक्षा करें, आपका भुगतान हो रहा है।' },
  'outcome.paid': { en: 'Your payment was successful. Thank you.', hi: 'आपका भुगतान सफल रहा। धन्यवाद।' },
  'outcome.declined': { en: 'Your payment was declined by your bank. No money has been taken.', hi: 'आपके बैंक ने भुगतान अस्वीकार कर दिया। कोई राशि नहीं काटी गई।' },
  'outcome.failed': { en: 'We could not complete your payment.', hi: 'हम आपका भुगतान पूरा नहीं कर सके।' },
  'outcome.unknown': {
    en: 'We could not confirm your payment. Your agent will check its status with you.',
    hi: 'हम आपके भुगतान की पुष्टि नहीं कर सके। आपका एजेंट आपके साथ इसकी स्थिति जाँचेगा।',
  },
  'outcome.too-many': { en: 'There were too many attempts.', hi: 'बहुत अधिक प्रयास हो गए।' },
  'outcome.cancelled': { en: 'The payment has been cancelled.', hi: 'भुगतान रद्द कर दिया गया है।' },
  'outcome.timeout': { en: 'The payment took too long and has been stopped.', hi: 'भुगतान में बहुत समय लगा, इसलिए इसे रोक दिया गया है।' },
  handback: { en: 'You will now be returned to your agent.', hi: 'अब आपको आपके एजेंट से जोड़ा जा रहा है।' },
  /** Transfer mode without X-Pay-Return-To: said last, before the gateway hangs up. */
  goodbye: { en: 'Thank you. Goodbye.', hi: 'धन्यवाद। नमस्कार।' },
  /** Transfer mode, the provider refused before the capture started (breaker open). */
  'payments.unavailable': {
    en: 'Card payments are unavailable right now, please try again later.',
    hi: 'कार्ड से भुगतान अभी उपलब्ध नहीं है, कृपया बाद में फिर से कोशिश करें।',
  },
} as const satisfies Record<string, Record<Language, string>>;

export type PromptId = keyof typeof PROMPTS;

/** One piece of a prompt: a catalogue id, an id with its `{n}`, or an amount spoken in words. */
export type PromptItem = PromptId | { readonly id: PromptId; readonly n: number } | { readonly amount: string; readonly currency: string };

/** What CapturePort.play() receives. */
export interface PromptSpec {
  /** Identifies this playback; onPromptDone(token) for an older one is ignored. */
  readonly token: number;
  readonly items: readonly PromptItem[];
  /** Digits cut it short (type-ahead); false for the outcome prompt. */
  readonly bargeIn: boolean;
  readonly language: Language;
}

/** The ids of a spec's items (amounts left out): what `prompt.playing` events carry. */
export function promptIds(items: readonly PromptItem[]): PromptId[] {
  const out: PromptId[] = [];
  for (const i of items) {
    if (typeof i === 'string') out.push(i);
    else if ('id' in i) out.push(i.id);
  }
  return out;
}

/** The text to speak for a spec, in its language. */
export function renderPrompt(items: readonly PromptItem[], language: Language): string {
  return items
    .map((i) => {
      if (typeof i === 'string') return PROMPTS[i][language];
      if ('id' in i) return PROMPTS[i.id][language].replace('{n}', numberToWords(i.n, language));
      return `${amountToWords(i.amount, i.currency, language)}.`;
    })
    .join(' ');
}
