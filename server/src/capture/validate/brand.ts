/**
 * Card brand from the IIN (the leading digits), allowed PAN lengths and CVV length.
 *
 * Sources: Wikipedia "Payment card number" § "Issuer identification number (IIN)" (IIN ranges and
 * lengths per network, the usual public digest of the scheme manuals); Mastercard's 2-series
 * 2221-2720 (Mastercard, "2-Series BIN Expansion", 2016); NPCI RuPay ranges 60, 65, 81, 82, 508 and
 * the RuPay BIN block 652150-653149 that Indian PSP checkouts (Razorpay/Juspay card detection)
 * classify as RuPay.
 *
 * ## Precedence where ranges overlap (first rule wins, table order below)
 * 1. RuPay 508        before Maestro 50     (the more specific prefix wins).
 * 2. Discover 6011    before RuPay 60       (6011 is Discover's own block; RuPay does not issue on it).
 * 3. RuPay 652150-653149 before Discover 65 (NPCI's BIN block inside 65; the rest of 65 stays
 *    Discover, whose 65 range predates RuPay and is the one the reciprocity agreement routes).
 * 4. JCB 3528-3589    before RuPay 353/356  (RuPay-JCB co-branded cards carry a JCB BIN; the prefix
 *    alone cannot tell them from plain JCB cards, e.g. the JCB test PAN 3530111333300000, so they
 *    are reported as `jcb`, and RuPay 353/356 has no rule of its own; a BIN table from the acquirer
    is the only way to do better).
 * 5. Maestro takes 6x only where nothing else claims it (61, 63, 640-643, 66-69). 62 (China
 *    UnionPay, not a supported brand) is `unknown` rather than mislabelled Maestro.
 *
 * Detection is prefix-safe for live progress: while a higher-precedence rule could still match
 * once more digits arrive, the answer is `unknown` (e.g. `'65'` → unknown, `'6500'` → discover,
 * `'6521'` → unknown until `'652150'` → rupay).
 */
export const CARD_BRANDS = ['visa', 'mastercard', 'amex', 'rupay', 'diners', 'discover', 'jcb', 'maestro'] as const;
export type KnownBrand = (typeof CARD_BRANDS)[number];
export type CardBrand = KnownBrand | 'unknown';

interface IinRule {
  brand: KnownBrand;
  /** Inclusive range of equal-length digit prefixes. */
  from: string;
  to: string;
}

const r = (brand: KnownBrand, from: string, to: string = from): IinRule => ({ brand, from, to });

/** Ordered by precedence (see the header). */
const IIN_RULES: readonly IinRule[] = [
  r('rupay', '508'),
  r('discover', '6011'),
  r('rupay', '60'),
  r('rupay', '652150', '653149'),
  r('discover', '644', '649'),
  r('discover', '65'),
  r('rupay', '81', '82'),
  r('jcb', '3528', '3589'),
  r('amex', '34'),
  r('amex', '37'),
  r('diners', '36'),
  r('diners', '300', '305'),
  r('diners', '3095'),
  r('diners', '38', '39'),
  r('visa', '4'),
  r('mastercard', '51', '55'),
  r('mastercard', '2221', '2720'),
  r('maestro', '50'),
  r('maestro', '56', '58'),
  r('maestro', '61'),
  r('maestro', '63'),
  r('maestro', '640', '643'),
  r('maestro', '66', '69'),
];

const MAX_RULE_LEN = Math.max(...IIN_RULES.map((x) => x.from.length));

const range = (a: number, b: number): readonly number[] => Array.from({ length: b - a + 1 }, (_, i) => a + i);

/** PAN lengths per brand (Wikipedia, "Payment card number", IIN table). */
const LENGTHS: Record<CardBrand, readonly number[]> = {
  visa: [13, 16, 19],
  mastercard: [16],
  amex: [15],
  rupay: [16],
  diners: range(14, 19),
  discover: range(16, 19),
  jcb: range(16, 19),
  maestro: range(12, 19),
  // ISO/IEC 7812-1: a PAN is at most 19 digits; the keypad accepts 13-19 (docs/architecture.md).
  unknown: range(12, 19),
};

function prefixOf(digits: Buffer | string): string {
  const n = Math.min(digits.length, MAX_RULE_LEN);
  // Only the IIN (at most 6 digits, which PCI DSS allows to be displayed) becomes a string.
  return typeof digits === 'string' ? digits.slice(0, n) : digits.toString('latin1', 0, n);
}

/**
 * Brand for the digits typed so far (or a whole PAN). `unknown` while undecided or unsupported.
 */
export function detectBrand(prefixDigits: Buffer | string): CardBrand {
  const p = prefixOf(prefixDigits);
  if (!/^\d+$/.test(p)) return 'unknown';
  for (const rule of IIN_RULES) {
    const len = rule.from.length;
    if (p.length >= len) {
      const head = p.slice(0, len);
      if (head >= rule.from && head <= rule.to) return rule.brand;
    } else if (p >= rule.from.slice(0, p.length) && p <= rule.to.slice(0, p.length)) {
      return 'unknown'; // a higher-precedence rule may still claim it: wait for more digits
    }
  }
  return 'unknown';
}

export function allowedLengths(brand: CardBrand): readonly number[] {
  return LENGTHS[brand];
}

/** CVV/CID digits: 4 for Amex (the CID on the front), 3 for every other brand. */
export function cvvLength(brand: CardBrand): 3 | 4 {
  return brand === 'amex' ? 4 : 3;
}

/** The most digits a PAN of this brand can have (the keypad may stop collecting there). */
export function maxPanLength(brand: CardBrand): number {
  const l = LENGTHS[brand];
  return l[l.length - 1]!;
}
