/**
 * Speech corpus for the DTMF talk-off test: English and Hindi text spoken by espeak-ng with
 * several voices, pitches and speeds, resampled to 8 kHz by sox, levelled to -15 dBm0 active
 * speech, joined with 300 ms pauses and passed through G.711 µ-law. Built by the test itself
 * and cached in the OS temp dir under a hash of everything that shapes it, so reruns are fast.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rmsForDbm0 } from '../../src/media/g711/index.js';
import { FS, viaUlaw } from './generator.js';

const EN = [
  'Thank you for calling. To pay for your booking by card, please stay on the line. Your agent will remain connected but will not hear the numbers you enter. Please enter your sixteen digit card number now, followed by the hash key. If you make a mistake, press star to start again.',
  'The flight from Mumbai to Singapore leaves at a quarter past nine in the evening, and the return leg arrives on Sunday morning. Meals are included, and each passenger may check in two bags of up to twenty three kilograms. Seats near the wing are usually the quietest.',
  'We have sent a one time password to the mobile number registered with your bank. It is six digits long and will expire in five minutes. Please key it in now. Do not share this password with anyone, including the agent who is helping you today.',
  'Rainfall across the western coast is expected to be heavier than usual this week, with strong winds near the shore. Farmers in the region have been advised to delay sowing until the soil dries. Temperatures in the north will stay close to thirty eight degrees.',
  'Your payment of one thousand four hundred and ninety nine rupees has been approved. The reference number is seven seven three one nine zero four two. You will receive a confirmation message shortly. Please hold while we return you to your agent.',
  'She said she would call back after lunch, but the line was busy all afternoon. In the end we met at the station, bought two tickets for the late train, and talked about everything from cricket scores to the price of onions and the new metro line.',
  'Hello? Yes, I can hear you now. Sorry, the signal keeps dropping when I walk past the lift. Could you repeat the last part about the refund? Was it three to five working days, or three to five weeks? My card expires in June, so I want to be sure.',
];

const HI = [
  'नमस्ते। कार्ड से भुगतान करने के लिए कृपया लाइन पर बने रहें। आपके एजेंट कॉल पर रहेंगे लेकिन आपके द्वारा दर्ज किए गए अंक नहीं सुन पाएंगे। कृपया अपना सोलह अंकों का कार्ड नंबर दर्ज करें और उसके बाद हैश कुंजी दबाएं।',
  'हमने आपके बैंक में पंजीकृत मोबाइल नंबर पर एक बार उपयोग होने वाला पासवर्ड भेजा है। यह छह अंकों का है और पांच मिनट में समाप्त हो जाएगा। कृपया इसे अभी दर्ज करें और किसी के साथ साझा न करें।',
  'इस सप्ताह पश्चिमी तट पर सामान्य से अधिक बारिश होने की संभावना है। किसानों को सलाह दी गई है कि वे मिट्टी सूखने तक बुवाई रोक दें। उत्तर भारत में तापमान अड़तीस डिग्री के आसपास रहेगा।',
  'आपका एक हज़ार चार सौ निन्यानवे रुपये का भुगतान स्वीकार कर लिया गया है। संदर्भ संख्या सात सात तीन एक नौ शून्य चार दो है। कृपया प्रतीक्षा करें, हम आपको आपके एजेंट से फिर से जोड़ रहे हैं।',
  'कल शाम हम स्टेशन पर मिले, देर रात की ट्रेन के दो टिकट खरीदे और क्रिकेट से लेकर प्याज़ के दाम तक हर चीज़ पर बातें कीं। रास्ते में बारिश शुरू हो गई, पर चाय की दुकान खुली थी।',
  'हेलो? हां, अब आवाज़ आ रही है। माफ़ कीजिए, लिफ़्ट के पास सिग्नल चला जाता है। क्या आप रिफ़ंड वाली बात फिर से बता सकते हैं? तीन से पांच कार्य दिवस या तीन से पांच सप्ताह?',
];

interface Utterance {
  lang: 'en' | 'hi';
  text: string;
  voice: string;
  speed: number;
  pitch: number;
}

const EN_VOICES = ['en-us', 'en-us+f3', 'en-gb+m3', 'en-gb-scotland+f2', 'en-029+klatt3', 'en-us+Annie', 'en-gb+f5', 'en-us+m7'];
const HI_VOICES = ['hi', 'hi+f3', 'hi+m2', 'hi+f5', 'hi+klatt2', 'hi+Annie'];
const SPEEDS = [130, 160, 190, 230];
const PITCHES = [25, 50, 75, 95];

/** Every text with four voice/speed/pitch combinations, chosen deterministically (~12.5 min). */
export function speechPlan(): Utterance[] {
  const plan: Utterance[] = [];
  let n = 0;
  for (const [lang, texts, voices] of [['en', EN, EN_VOICES], ['hi', HI, HI_VOICES]] as const) {
    for (const text of texts) {
      for (let v = 0; v < 4; v++, n++) {
        plan.push({ lang, text, voice: voices[(n * 3 + v) % voices.length]!, speed: SPEEDS[(n + v) % 4]!, pitch: PITCHES[(n * 7 + v) % 4]! });
      }
    }
  }
  return plan;
}

export interface SpeechCorpus {
  pcm: Int16Array;
  seconds: number;
  utterances: number;
  path: string;
  cached: boolean;
}

const ACTIVE_LEVEL_DBM0 = -15;
const PAUSE = Math.round(0.3 * FS);

function version(cmd: string, args: string[]): string {
  return execFileSync(cmd, args).toString().split('\n')[0] ?? '';
}

/** Build (or load from cache) the talk-off speech corpus. */
export function speechCorpus(): SpeechCorpus {
  const plan = speechPlan();
  const key = JSON.stringify({ plan, v: 2, espeak: version('espeak-ng', ['--version']), sox: version('sox', ['--version']), level: ACTIVE_LEVEL_DBM0 });
  const hash = createHash('sha256').update(key).digest('hex').slice(0, 16);
  const dir = join(tmpdir(), 'tonegate-dsp-cache');
  const path = join(dir, `speech-${hash}.s16`);
  if (existsSync(path)) {
    const buf = readFileSync(path);
    const pcm = new Int16Array(buf.buffer, buf.byteOffset, buf.length / 2);
    return { pcm, seconds: pcm.length / FS, utterances: plan.length, path, cached: true };
  }
  mkdirSync(dir, { recursive: true });
  const work = join(dir, `speech-${hash}-${process.pid}`);
  mkdirSync(work, { recursive: true });
  const parts: Int16Array[] = [];
  try {
    plan.forEach((u, i) => {
      const wav = join(work, `${i}.wav`);
      const raw = join(work, `${i}.raw`);
      execFileSync('espeak-ng', ['-v', u.voice, '-s', String(u.speed), '-p', String(u.pitch), '-w', wav, u.text]);
      execFileSync('sox', ['-V1', wav, '-t', 'raw', '-r', String(FS), '-e', 'signed', '-b', '16', '-c', '1', '-L', raw]);
      const b = readFileSync(raw);
      parts.push(level(new Int16Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length))));
    });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const total = parts.reduce((n, p) => n + p.length + PAUSE, 0);
  const joined = new Int16Array(total);
  let at = 0;
  for (const p of parts) {
    joined.set(p, at);
    at += p.length + PAUSE;
  }
  const pcm = viaUlaw(joined);
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength));
  renameSync(tmp, path);
  return { pcm, seconds: pcm.length / FS, utterances: plan.length, path, cached: false };
}

/** Scale to ACTIVE_LEVEL_DBM0 measured over 20 ms frames louder than 30 dB below the peak frame. */
function level(pcm: Int16Array): Int16Array {
  const frame = 160;
  const energies: number[] = [];
  for (let i = 0; i + frame <= pcm.length; i += frame) {
    let e = 0;
    for (let j = i; j < i + frame; j++) e += pcm[j]! * pcm[j]!;
    energies.push(e / frame);
  }
  const peak = Math.max(...energies, 1);
  const active = energies.filter((e) => e > peak / 1000);
  const rms = Math.sqrt(active.reduce((s, e) => s + e, 0) / Math.max(active.length, 1));
  const gain = rmsForDbm0(ACTIVE_LEVEL_DBM0) / Math.max(rms, 1);
  const out = new Int16Array(pcm.length);
  for (let i = 0; i < pcm.length; i++) {
    const v = Math.round(pcm[i]! * gain);
    out[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
  }
  return out;
}
