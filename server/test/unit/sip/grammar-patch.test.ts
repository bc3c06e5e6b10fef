import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

/**
 * scripts/patch-sipjs-grammar.mjs (postinstall) rewrites sip.js's generated parser so its constants
 * are built once instead of on every call. This proves the rewrite parses exactly like the original:
 * same result or same failure for every header of the RFC 4475 set, typical SIPp/sip.js values, and
 * random mutations of them, under every start rule tonegate's stack uses.
 */
type Parse = (input: string, options: { startRule: string; data?: unknown }) => unknown;
const dir = join(dirname(createRequire(import.meta.url).resolve('sip.js/package.json')), 'lib/grammar/pegjs/dist');

async function load(file: string): Promise<Parse> {
  return ((await import(pathToFileURL(join(dir, file)).href)) as { parse: Parse }).parse;
}
function run(parse: Parse, input: string, startRule: string): string {
  const options: { startRule: string; data?: unknown } = { startRule };
  try {
    parse(input, options);
  } catch {
    return 'FAILED';
  }
  return JSON.stringify(options.data);
}

const RULES: Record<string, string> = {
  via: 'Via', v: 'Via', from: 'From', f: 'From', to: 'To', t: 'To', 'call-id': 'Call_ID', i: 'Call_ID', cseq: 'CSeq',
  contact: 'Contact', m: 'Contact', 'max-forwards': 'Max_Forwards', 'content-type': 'Content_Type', c: 'Content_Type',
  'content-length': 'Content_Length', l: 'Content_Length', 'record-route': 'Record_Route', 'refer-to': 'Refer_To', r: 'Refer_To',
  event: 'Event', o: 'Event', require: 'Require', supported: 'Supported', k: 'Supported', 'www-authenticate': 'WWW_Authenticate',
};

function corpus(): [string, string][] {
  const out: [string, string][] = [];
  const fixtures = resolve(import.meta.dirname, '../../fixtures/rfc4475');
  for (const f of readdirSync(fixtures).filter((n) => n.endsWith('.dat'))) {
    const text = readFileSync(join(fixtures, f), 'latin1');
    const [head] = text.split('\r\n\r\n');
    const lines = head!.replace(/\r\n[ \t]+/g, ' ').split('\r\n');
    out.push([lines[0]! + '\r\n', 'Request_Response']);
    for (const l of lines.slice(1)) {
      const i = l.indexOf(':');
      const rule = RULES[l.slice(0, i).trim().toLowerCase()];
      if (i > 0 && rule) out.push([l.slice(i + 1).trim(), rule]);
    }
  }
  out.push(
    ['SIP/2.0/UDP 127.0.0.1:5093;branch=z9hG4bK-1;rport', 'Via'],
    ['SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bK123;received=127.0.0.1;rport=50000', 'Via'],
    ['"Alice" <sip:alice@example.com;transport=ws>;tag=abc', 'From'],
    ['<sip:pay@gw?X-Pay-Amount=1499.00&X-Pay-Currency=INR>', 'Refer_To'],
    ['<sip:agent-1@127.0.0.1:5072;transport=UDP>;expires=300;+sip.instance="<urn:uuid:1>"', 'Contact'],
    ['*', 'Contact'],
    ['INVITE sip:support@127.0.0.1:5060 SIP/2.0\r\n', 'Request_Response'],
    ['SIP/2.0 200 OK\r\n', 'Request_Response'],
    ['sip:alice@[::1]:5060;lr', 'SIP_URI'],
  );
  return out;
}

describe('patched sip.js grammar (constants built once)', () => {
  it('is applied by postinstall', () => {
    expect(readFileSync(join(dir, 'grammar.js'), 'utf8')).toContain('tonegate: hoisted peg constants');
    expect(existsSync(join(dir, 'grammar.orig.js'))).toBe(true);
  });

  it('parses the corpus exactly like the original, including after failures', async () => {
    const patched = await load('grammar.js');
    const original = await load('grammar.orig.js');
    const items = corpus();
    expect(items.length).toBeGreaterThan(300);
    for (const [input, rule] of items) expect(run(patched, input, rule), `${rule}: ${input}`).toBe(run(original, input, rule));
  });

  it('agrees with the original on 20,000 random mutations', async () => {
    const patched = await load('grammar.js');
    const original = await load('grammar.orig.js');
    const items = corpus();
    fc.assert(
      fc.property(fc.nat(items.length - 1), fc.nat(200), fc.string({ maxLength: 4 }), fc.nat(3), (k, pos, ins, del) => {
        const [input, rule] = items[k]!;
        const p = Math.min(pos, input.length);
        const m = input.slice(0, p) + ins + input.slice(p + del);
        expect(run(patched, m, rule)).toBe(run(original, m, rule));
      }),
      { numRuns: 20_000, seed: 4475 },
    );
  });
});
