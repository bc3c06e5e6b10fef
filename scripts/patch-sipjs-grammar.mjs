// postinstall: makes sip.js's PEG parser (peggy output) ~4x cheaper per call without changing what
// it parses. The generated peg$parse() rebuilds its ~800 constants and decodes ~230 bytecode
// strings on EVERY call (about 130-280 µs), and tonegate parses about ten header fields per SIP
// message. This rewrite builds them once at module load and keeps the per-call parser state in
// module-level variables reset at the start of each call (the parser is not re-entrant: no action
// calls the parser). The original is kept beside it as grammar.orig.js, and
// server/test/unit/sip/grammar-patch.test.ts proves both give identical results on a corpus.
// Idempotent; if the file is not the expected shape it changes nothing and says so.
import { existsSync, readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const MARK = '/* tonegate: hoisted peg constants */';
let file;
try {
  const require = createRequire(import.meta.url);
  file = join(dirname(require.resolve('sip.js/package.json')), 'lib/grammar/pegjs/dist/grammar.js');
} catch {
  console.log('patch-sipjs-grammar: sip.js not installed; nothing to do');
  process.exit(0);
}
const src = readFileSync(file, 'utf8');
if (src.includes(MARK)) {
  console.log('patch-sipjs-grammar: already applied');
  process.exit(0);
}

function give(reason) {
  console.warn(`patch-sipjs-grammar: NOT applied (${reason}); SIP parsing works, only slower`);
  process.exit(0);
}

const head = 'function peg$parse(input, options) {\n    options = options !== undefined ? options : {};\n';
const start = src.indexOf(head);
const stateStart = src.indexOf('    let peg$currPos = 0;\n', start);
const ruleCheck = src.indexOf('    if (options.startRule !== undefined) {\n', stateStart);
const helpers = src.indexOf('    function text() {\n', ruleCheck);
const dataLine = '    options.data = {}; // Object to which header attributes will be assigned during parsing\n';
const data = src.indexOf(dataLine, helpers);
const run = src.indexOf('    peg$result = peg$parseRule(peg$startRuleIndex);\n', data);
const end = src.indexOf('\n}\nexport const parse = peg$parse;', run);
if ([start, stateStart, ruleCheck, helpers, data, run, end].some((i) => i < 0)) give('unexpected grammar.js layout');

const prelude = src.slice(start + head.length, stateStart);
const defaultRule = /let peg\$startRuleIndex = (\d+);/.exec(prelude);
if (!defaultRule || !prelude.includes('    const peg$source = options.grammarSource;\n')) give('unexpected prelude');
const state = src.slice(stateStart, ruleCheck);
const expectedState = [
  '    let peg$currPos = 0;', '    let peg$savedPos = 0;', '    const peg$posDetailsCache = [{ line: 1, column: 1 }];',
  '    let peg$maxFailPos = 0;', '    let peg$maxFailExpected = [];', '    let peg$silentFails = 0;', '    let peg$result;', '',
].join('\n');
if (state !== expectedState) give('unexpected parser state block');
const ruleCheckBlock = src.slice(ruleCheck, helpers);
const helperBlock = src.slice(helpers, data) + src.slice(data + dataLine.length, run);
const runBlock = src.slice(run, end);

const patched =
  src.slice(0, start) +
  `${MARK}\nlet input;\nlet options;\nlet peg$currPos = 0;\nlet peg$savedPos = 0;\nlet peg$posDetailsCache = [{ line: 1, column: 1 }];\n` +
  'let peg$maxFailPos = 0;\nlet peg$maxFailExpected = [];\nlet peg$silentFails = 0;\nlet peg$result;\n' +
  prelude.replace('    const peg$source = options.grammarSource;\n', '    let peg$source;\n').replace(/let peg\$startRuleIndex = \d+;/, 'let peg$startRuleIndex;') +
  helperBlock +
  'function peg$parse(input_, options_) {\n' +
  '    input = input_;\n    options = options_ !== undefined ? options_ : {};\n    peg$source = options.grammarSource;\n' +
  `    peg$startRuleIndex = ${defaultRule[1]};\n` +
  '    peg$currPos = 0;\n    peg$savedPos = 0;\n    peg$posDetailsCache = [{ line: 1, column: 1 }];\n    peg$maxFailPos = 0;\n    peg$maxFailExpected = [];\n    peg$silentFails = 0;\n    peg$result = undefined;\n' +
  ruleCheckBlock +
  dataLine +
  runBlock +
  src.slice(end);

const orig = join(dirname(file), 'grammar.orig.js');
if (!existsSync(orig)) copyFileSync(file, orig);
writeFileSync(file, patched);
console.log('patch-sipjs-grammar: applied (peg constants built once)');
