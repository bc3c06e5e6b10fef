import type { BuiltinLanguage } from '../contract/events.js';
import type { Language } from '../handoff/index.js';
import { amountToWords, numberToWords } from './amount-words.js';

/**
 * The prompt catalogue: every sentence the customer can hear, in English, Hindi and Tamil. The media side
 * renders them (espeak-ng) from {@link renderPrompt}'s text, or plays pre-recorded files named by id.
 * `{n}` is replaced by a number in words. Nothing here ever speaks card data back.
 */
export const PROMPTS = {
  'greeting.secure': {
    en: 'You are now on the secure payment line. Your agent cannot hear the numbers you key.',
    hi: 'आप अब सुरक्षित भुगतान लाइन पर हैं। आप जो नंबर दबाएँगे, वे आपके एजेंट को सुनाई नहीं देंगे।',
    ta: 'நீங்கள் இப்போது பாதுகாப்பான கட்டண இணைப்பில் இருக்கிறீர்கள். நீங்கள் அழுத்தும் எண்களை உங்கள் முகவரால் கேட்க முடியாது.',
  },
  'greeting.amount': { en: 'You are paying', hi: 'आप भुगतान कर रहे हैं', ta: 'நீங்கள் செலுத்த வேண்டிய தொகை' },
  'enter.pan': { en: 'Please enter your card number, then press hash.', hi: 'कृपया अपना कार्ड नंबर दर्ज करें, फिर हैश दबाएँ।', ta: 'தயவுசெய்து உங்கள் கார்டு எண்ணை உள்ளிட்டு, பிறகு ஹேஷ் அழுத்தவும்.' },
  /** With no terminator (capture policy panTerminator none): the number ends at a pause or at its longest. */
  'enter.pan.no-hash': { en: 'Please enter your card number.', hi: 'कृपया अपना कार्ड नंबर दर्ज करें।', ta: 'தயவுசெய்து உங்கள் கார்டு எண்ணை உள்ளிடவும்.' },
  'enter.expiry': {
    en: 'Please enter the expiry date: two digits for the month, then two digits for the year.',
    hi: 'कृपया समाप्ति तिथि दर्ज करें: महीने के दो अंक, फिर साल के दो अंक।',
    ta: 'தயவுசெய்து காலாவதி தேதியை உள்ளிடவும்: மாதத்திற்கு இரண்டு இலக்கங்கள், பிறகு ஆண்டிற்கு இரண்டு இலக்கங்கள்.',
  },
  'enter.cvv': { en: 'Please enter the {n} digit security code of your card.', hi: 'कृपया अपने कार्ड का {n} अंकों का सुरक्षा कोड दर्ज करें।', ta: 'தயவுசெய்து உங்கள் கார்டின் {n} இலக்க பாதுகாப்புக் குறியீட்டை உள்ளிடவும்.' },
  'enter.otp': {
    en: 'Please enter the {n} digit one-time password sent to your mobile. To get a new one, press hash.',
    hi: 'कृपया आपके मोबाइल पर भेजा गया {n} अंकों का वन-टाइम पासवर्ड दर्ज करें। नया पासवर्ड पाने के लिए हैश दबाएँ।',
    ta: 'தயவுசெய்து உங்கள் மொபைலுக்கு அனுப்பப்பட்ட {n} இலக்க ஒருமுறை கடவுச்சொல்லை உள்ளிடவும். புதிய கடவுச்சொல் பெற ஹேஷ் அழுத்தவும்.',
  },
  'star.clears': { en: 'To start a number again, press star.', hi: 'नंबर दोबारा शुरू करने के लिए स्टार दबाएँ।', ta: 'எண்ணை மீண்டும் தொடக்கத்திலிருந்து உள்ளிட, ஸ்டார் அழுத்தவும்.' },
  'agent.retry': { en: 'Your agent has asked you to enter this again.', hi: 'आपके एजेंट ने इसे दोबारा दर्ज करने के लिए कहा है।', ta: 'இதை மீண்டும் உள்ளிடுமாறு உங்கள் முகவர் கேட்டுள்ளார்.' },
  'invalid.no-input': { en: 'We did not receive any digits.', hi: 'हमें कोई अंक नहीं मिला।', ta: 'எங்களுக்கு எந்த இலக்கமும் கிடைக்கவில்லை.' },
  'invalid.incomplete': { en: 'That number is incomplete.', hi: 'यह नंबर अधूरा है।', ta: 'அந்த எண் முழுமையாக இல்லை.' },
  'invalid.pan': { en: 'That card number is not valid.', hi: 'यह कार्ड नंबर मान्य नहीं है।', ta: 'அந்த கார்டு எண் செல்லுபடியாகாது.' },
  'invalid.brand': { en: 'This card type is not accepted for this payment.', hi: 'इस भुगतान के लिए यह कार्ड स्वीकार नहीं है।', ta: 'இந்தக் கட்டணத்திற்கு இந்த வகை கார்டு ஏற்கப்படாது.' },
  'invalid.expiry': { en: 'That expiry date is not valid.', hi: 'यह समाप्ति तिथि मान्य नहीं है।', ta: 'அந்த காலாவதி தேதி செல்லுபடியாகாது.' },
  'invalid.expired': { en: 'That card has expired.', hi: 'इस कार्ड की अवधि समाप्त हो चुकी है।', ta: 'அந்த கார்டு காலாவதியாகிவிட்டது.' },
  'invalid.otp': { en: 'That password is not correct.', hi: 'यह पासवर्ड सही नहीं है।', ta: 'அந்த கடவுச்சொல் சரியானது அல்ல.' },
  'attempts.left': { en: 'Attempts left: {n}.', hi: 'बचे हुए प्रयास: {n}।', ta: 'மீதமுள்ள முயற்சிகள்: {n}.' },
  'otp.sending': { en: 'Please wait while we send a one-time password to your mobile.', hi: 'कृपया प्रतीक्षा करें, हम आपके मोबाइल पर वन-टाइम पासवर्ड भेज रहे हैं।', ta: 'உங்கள் மொபைலுக்கு ஒருமுறை கடவுச்சொல்லை அனுப்புகிறோம், தயவுசெய்து காத்திருக்கவும்.' },
  'otp.resent': { en: 'A new password is on its way.', hi: 'नया पासवर्ड भेजा जा रहा है।', ta: 'புதிய கடவுச்சொல் அனுப்பப்படுகிறது.' },
  'otp.expired': { en: 'That password has expired.', hi: 'इस पासवर्ड की अवधि समाप्त हो गई है।', ta: 'அந்த கடவுச்சொல்லின் காலம் முடிந்துவிட்டது.' },
  'otp.no-more-resends': { en: 'No more new passwords can be sent.', hi: 'अब और नए पासवर्ड नहीं भेजे जा सकते।', ta: 'இனி புதிய கடவுச்சொற்களை அனுப்ப முடியாது.' },
  'otp.sms-failed': {
    en: 'We could not send the password to your mobile. Press hash to try again.',
    hi: 'हम आपके मोबाइल पर पासवर्ड नहीं भेज सके। दोबारा कोशिश करने के लिए हैश दबाएँ।',
    ta: 'உங்கள் மொபைலுக்கு கடவுச்சொல்லை அனுப்ப முடியவில்லை. மீண்டும் முயற்சிக்க ஹேஷ் அழுத்தவும்.',
  },
  'otp.unavailable': { en: 'We cannot send a one-time password right now.', hi: 'हम अभी वन-टाइम पासवर्ड नहीं भेज सकते।', ta: 'இப்போது ஒருமுறை கடவுச்சொல்லை அனுப்ப முடியவில்லை.' },
  processing: { en: 'Please wait while we process your payment.', hi: 'कृपया प्रतीक्षा करें, आपका भुगतान हो रहा है।', ta: 'உங்கள் கட்டணம் செயலாக்கப்படுகிறது, தயவுசெய்து காத்திருக்கவும்.' },
  'outcome.paid': { en: 'Your payment was successful. Thank you.', hi: 'आपका भुगतान सफल रहा। धन्यवाद।', ta: 'உங்கள் கட்டணம் வெற்றிகரமாகச் செலுத்தப்பட்டது. நன்றி.' },
  'outcome.declined': { en: 'Your payment was declined by your bank. No money has been taken.', hi: 'आपके बैंक ने भुगतान अस्वीकार कर दिया। कोई राशि नहीं काटी गई।', ta: 'உங்கள் வங்கி இந்தக் கட்டணத்தை நிராகரித்துவிட்டது. உங்கள் கணக்கிலிருந்து பணம் எதுவும் எடுக்கப்படவில்லை.' },
  'outcome.failed': { en: 'We could not complete your payment.', hi: 'हम आपका भुगतान पूरा नहीं कर सके।', ta: 'உங்கள் கட்டணத்தை முடிக்க முடியவில்லை.' },
  'outcome.unknown': {
    en: 'We could not confirm your payment. Your agent will check its status with you.',
    hi: 'हम आपके भुगतान की पुष्टि नहीं कर सके। आपका एजेंट आपके साथ इसकी स्थिति जाँचेगा।',
    ta: 'உங்கள் கட்டணத்தை உறுதிப்படுத்த முடியவில்லை. உங்கள் முகவர் அதன் நிலையை உங்களுடன் சரிபார்ப்பார்.',
  },
  'outcome.too-many': { en: 'There were too many attempts.', hi: 'बहुत अधिक प्रयास हो गए।', ta: 'அதிகமான முயற்சிகள் செய்யப்பட்டுவிட்டன.' },
  'outcome.cancelled': { en: 'The payment has been cancelled.', hi: 'भुगतान रद्द कर दिया गया है।', ta: 'கட்டணம் ரத்து செய்யப்பட்டது.' },
  'outcome.timeout': { en: 'The payment took too long and has been stopped.', hi: 'भुगतान में बहुत समय लगा, इसलिए इसे रोक दिया गया है।', ta: 'கட்டணத்திற்கு அதிக நேரம் ஆனதால், அது நிறுத்தப்பட்டது.' },
  handback: { en: 'You will now be returned to your agent.', hi: 'अब आपको आपके एजेंट से जोड़ा जा रहा है।', ta: 'இப்போது உங்களை உங்கள் முகவருடன் மீண்டும் இணைக்கிறோம்.' },
  /** Transfer mode without X-Pay-Return-To: said last, before the gateway hangs up. */
  goodbye: { en: 'Thank you. Goodbye.', hi: 'धन्यवाद। नमस्कार।', ta: 'நன்றி. வணக்கம்.' },
  /** Transfer mode, the provider refused before the capture started (breaker open). */
  'payments.unavailable': {
    en: 'Card payments are unavailable right now, please try again later.',
    hi: 'कार्ड से भुगतान अभी उपलब्ध नहीं है, कृपया बाद में फिर से कोशिश करें।',
    ta: 'கார்டு மூலம் பணம் செலுத்தும் வசதி தற்போது கிடைக்கவில்லை, தயவுசெய்து பிறகு மீண்டும் முயற்சிக்கவும்.',
  },
} as const satisfies Record<string, Record<BuiltinLanguage, string>>;

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

/** The text to speak for a spec, in a built-in language (a recorded one has clips, no text). */
export function renderPrompt(items: readonly PromptItem[], language: BuiltinLanguage): string {
  return items
    .map((i) => {
      if (typeof i === 'string') return PROMPTS[i][language];
      if ('id' in i) return PROMPTS[i.id][language].replace('{n}', numberToWords(i.n, language));
      return `${amountToWords(i.amount, i.currency, language)}.`;
    })
    .join(' ');
}
