import { GoertzelDtmfDetector as New } from '../src/media/dtmf/goertzel.js';
import { channel, dtmfSignal } from '../devtools/dsp/generator.js';
import { speechCorpus } from '../devtools/dsp/speech.js';
const speech = speechCorpus().pcm;
const tones = channel(dtmfSignal('123A456B789C*0#D'.repeat(4), { lowDbm0: -10 }));
const audio = new Int16Array(speech.length + tones.length); audio.set(speech); audio.set(tones, speech.length);
const screen = process.argv[2] ? Number(process.argv[2]) : undefined;
let st;
function run(): number { let n = 0; const d = new New({ onDigit: () => n++, rowScreen: screen }); for (let i = 0; i < audio.length; i += 160) d.push(audio, i, Math.min(160, audio.length - i)); st = d.stats; return n; }
for (let i = 0; i < 3; i++) run();
const xs: number[] = [];
for (let r = 0; r < 10; r++) { const t = performance.now(); run(); xs.push(audio.length / ((performance.now() - t) / 1000) / 1e6); }
xs.sort((a, b) => a - b); console.log('best', xs.at(-1)!.toFixed(1), 'median', xs[5]!.toFixed(1), JSON.stringify(st));
