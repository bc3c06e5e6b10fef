/**
 * One grammar rule over one header value, with the parser's own verdict. The hot header fields go
 * through the hand-written reader (hot-headers.ts); what it declines, and every other rule, goes
 * to sip.js's generated PEG parser, called directly (not through sip.js's `Grammar.parse`, which
 * swallows the exception), so a rejection carries what the parser expected, what it found and
 * where. sip.js is installed as published: nothing under node_modules is rewritten.
 */
import { parse as pegParse, SyntaxError as PegSyntaxError, type Expectation } from 'sip.js/lib/grammar/pegjs/dist/grammar.js';
import { HOT_RULES, readHot, type HotRule } from './hot-headers.js';

export interface GrammarError {
  /** Grammar rule (sip.js's names: Via, From, CSeq, Request_Response, ...). */
  rule: string;
  /** 1-based column in the value where the parser stopped; 0 when the rule's action refused it. */
  column: number;
  /** What the parser would have accepted there (at most 24, described). */
  expected: string[];
  /** The character it found there, or null at the end of the value. */
  found: string | null;
}

export type GrammarResult = { ok: true; data: unknown } | { ok: false; error: GrammarError };

function describe(e: Expectation): string {
  switch (e.type) {
    case 'literal':
      return JSON.stringify(e.text);
    case 'class':
      return `[${e.inverted ? '^' : ''}${e.parts.map((p) => (Array.isArray(p) ? p.join('-') : p)).join('')}]`;
    case 'any':
      return 'any character';
    case 'end':
      return 'end of value';
    case 'other':
      return e.description;
  }
}

/** The parser's error as data: the rule, the column, the expectations and the character found. */
export function grammarError(rule: string, err: unknown): GrammarError {
  if (err instanceof PegSyntaxError) {
    const expected = [...new Set(err.expected.map(describe))];
    return { rule, column: err.location.start.column, expected: expected.slice(0, 24), found: err.found };
  }
  // An action of the grammar threw (sip.js's Contact action on `*`, decodeURIComponent on a bad
  // %-escape) or returned its "invalid" marker: the value as a whole is refused.
  return { rule, column: 0, expected: [], found: null };
}

/** For logs, after the field's name: `expected ">" or ";" at column 23, found ","`. */
export function describeGrammarError(e: GrammarError): string {
  if (e.column === 0) return `refused by grammar rule ${e.rule}`;
  const found = e.found === null ? 'the end' : JSON.stringify(e.found);
  return `expected ${e.expected.join(' or ') || 'something else'} at column ${e.column}, found ${found}`;
}

/**
 * `value` under grammar `rule`: what sip.js's grammar returns (its `options.data`), or its error.
 * The same verdict as sip.js's `Grammar.parse` (which answers -1 for every failure).
 */
export function grammarParse(value: string, rule: string): GrammarResult {
  if (HOT_RULES.has(rule)) {
    const fast = readHot(value, rule as HotRule);
    if (fast !== undefined) return { ok: true, data: fast };
  }
  const options: { startRule: string; data?: unknown } = { startRule: rule };
  try {
    pegParse(value, options);
  } catch (err) {
    return { ok: false, error: grammarError(rule, err) };
  }
  if (options.data === -1) return { ok: false, error: grammarError(rule, undefined) };
  return { ok: true, data: options.data };
}
