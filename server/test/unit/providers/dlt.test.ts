import { describe, expect, it } from 'vitest';
import {
  DltError,
  assertMatchesTemplate,
  DLT_MAX_VAR_LENGTH,
  countPlaceholders,
  gsm7Septets,
  isGsm7,
  renderDlt,
  type DltTemplate,
} from '../../../src/providers/dlt.js';
import { SensitiveDigits } from '../../../src/security/sensitive-digits.js';

const OTP_TEMPLATE: DltTemplate = {
  templateId: '1107161234567890123',
  peId: '1101159876543210987',
  senderId: 'TNGATE',
  text: '{#var#} is your OTP to pay Rs {#var#} for order {#var#}. Do not share it. - Tonegate',
};

function problem(fn: () => unknown): { problem: string; index: number | undefined; message: string } {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(DltError);
    const d = e as DltError;
    expect(d.code).toBe('dlt-invalid');
    expect(d.retryable).toBe(false);
    return { problem: d.problem, index: d.index, message: d.message };
  }
  throw new Error('expected a DltError');
}

describe('renderDlt', () => {
  it('fills the {#var#} placeholders in order, the OTP straight from its sensitive buffer', () => {
    const otp = SensitiveDigits.fromString('482913');
    expect(renderDlt(OTP_TEMPLATE, [otp, '1499.00', 'ORD-1001'])).toBe(
      '482913 is your OTP to pay Rs 1499.00 for order ORD-1001. Do not share it. - Tonegate',
    );
  });

  it(`refuses a variable longer than ${DLT_MAX_VAR_LENGTH} characters, naming its position, not its value`, () => {
    const long = 'X'.repeat(DLT_MAX_VAR_LENGTH + 1);
    expect(() => renderDlt(OTP_TEMPLATE, ['1', '2', 'X'.repeat(DLT_MAX_VAR_LENGTH)])).not.toThrow();
    const p = problem(() => renderDlt(OTP_TEMPLATE, ['123456', '1.00', long]));
    expect(p).toMatchObject({ problem: 'var-too-long', index: 2 });
    expect(p.message).not.toContain('XXX');
  });

  it.each([[[]], [['1', '2']], [['1', '2', '3', '4']]])('refuses %j: the count does not match the placeholders', (vars) => {
    expect(problem(() => renderDlt(OTP_TEMPLATE, vars)).problem).toBe('count-mismatch');
  });

  it.each(['₹1499', 'नमस्ते', 'emoji 🙂', 'smart ’quote', 'tab\tchar'])('refuses %j: outside GSM-7', (v) => {
    expect(problem(() => renderDlt(OTP_TEMPLATE, ['1', v, '3']))).toMatchObject({ problem: 'charset', index: 1 });
  });

  it('accepts the GSM-7 extension characters', () => {
    expect(renderDlt(OTP_TEMPLATE, ['1', '€5', '[a]{b}|~^\\'])).toContain('€5');
  });

  it.each<[string, Partial<DltTemplate>]>([
    ['a non-numeric template ID', { templateId: 'TPL-1' }],
    ['a short PE ID', { peId: '1234' }],
    ['a 7-character header', { senderId: 'TONEGAT' }],
    ['a 5-character header', { senderId: 'TONEG' }],
    ['an empty text', { text: '' }],
    ['a character UCS-2 cannot carry', { text: 'OTP {#var#} {#var#} {#var#} 🙂' }],
    ['a DLT placeholder kind other than {#var#}', { text: 'OTP {#var#} {#var#} {#var#} {#url#}' }],
  ])('refuses a template with %s', (_name, patch) => {
    expect(problem(() => renderDlt({ ...OTP_TEMPLATE, ...patch }, ['1', '2', '3'])).problem).toBe('bad-template');
  });
});

const HINDI: DltTemplate = { ...OTP_TEMPLATE, text: '{#var#} आपका OTP है, ऑर्डर {#var#} के {#var#} रुपये के भुगतान के लिए। - Tonegate' };

describe('renderDlt with a UCS-2 template (Hindi)', () => {
  it('renders Devanagari text with ASCII variables', () => {
    expect(renderDlt(HINDI, ['482913', 'ORD-1', '1499.00'])).toBe('482913 आपका OTP है, ऑर्डर ORD-1 के 1499.00 रुपये के भुगतान के लिए। - Tonegate');
  });

  it('takes Devanagari in a variable, but nothing UCS-2 cannot carry', () => {
    expect(renderDlt(HINDI, ['1', 'नमस्ते', '3'])).toContain('नमस्ते');
    expect(problem(() => renderDlt(HINDI, ['1', 'emoji 🙂', '3']))).toMatchObject({ problem: 'charset', index: 1 });
  });
});

describe('assertMatchesTemplate: the rendered text against the registered template', () => {
  it.each<[string, string, boolean]>([
    ['the rendered message', '482913 is your OTP to pay Rs 1499.00 for order ORD-1. Do not share it. - Tonegate', true],
    ['a variable of 30 characters', `1 is your OTP to pay Rs ${'9'.repeat(30)} for order O. Do not share it. - Tonegate`, true],
    ['a variable of 31 characters', `1 is your OTP to pay Rs ${'9'.repeat(31)} for order O. Do not share it. - Tonegate`, false],
    ['fixed text changed', '482913 is your OTP to pay USD 1499.00 for order ORD-1. Do not share it. - Tonegate', false],
    ['fixed text cut short', '482913 is your OTP to pay Rs 1499.00 for order ORD-1.', false],
    ['a line break in a variable', '482913 is your OTP to pay Rs 1499.00 for order ORD\n1. Do not share it. - Tonegate', false],
    ['regex characters taken literally', '482913 is your OTP to pay Rs 1499.00 for order ORD-1X Do not share it. - Tonegate', false],
  ])('%s: matches %s', (_name, text, ok) => {
    if (ok) expect(() => assertMatchesTemplate(OTP_TEMPLATE, text)).not.toThrow();
    else expect(problem(() => assertMatchesTemplate(OTP_TEMPLATE, text)).problem).toBe('template-mismatch');
  });
});

describe('GSM-7 helpers', () => {
  it('counts placeholders and septets', () => {
    expect(countPlaceholders(OTP_TEMPLATE.text)).toBe(3);
    expect(countPlaceholders('none')).toBe(0);
    expect(gsm7Septets('a€b')).toBe(4);
    expect(isGsm7('Äpfel @ £5 ¿ñ?')).toBe(true);
    expect(isGsm7('á')).toBe(false);
  });
});
