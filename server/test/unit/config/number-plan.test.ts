import { describe, expect, it } from 'vitest';
import { configProblems } from './config-problems.js';
import { compileNumberPlan, didPoolProblems, normaliseNumber, numberEntries, numberPlanProblems, parseEntryText, planSettings, type NumberEntry } from '../../../src/config/number-plan.js';
import { ConfigError, loadConfig } from '../../../src/config/load.js';

const INDIA = { countryCode: '91', nationalPrefix: '0' };

const problems = configProblems;

describe('normaliseNumber: the E.164 form of a dialled user part', () => {
  it.each([
    ['+912240000000', '+912240000000'],
    ['02240000000', '+912240000000'],
    ['912240000000', '+912240000000'],
    ['+91-22-4000-0000', '+912240000000'],
    ['(022) 4000.0000', undefined], // a space is no RFC 3966 visual separator
    ['022-4000-0000', '+912240000000'],
    ['pay', undefined],
    ['agent-1', undefined],
    ['2240000000', undefined], // neither national prefix nor country code
    ['+0912240000000', undefined], // E.164 numbers do not start with 0
    ['+91', undefined], // too short for a whole number
    ['0', undefined],
    ['+1234567890123456', undefined], // 16 digits: longer than E.164 allows
  ])('%s -> %s', (user, e164) => {
    expect(normaliseNumber(user, INDIA)).toBe(e164);
  });

  it('with no national prefix, a leading 0 is not stripped; another country code applies', () => {
    expect(normaliseNumber('02240000000', { countryCode: '91', nationalPrefix: '' })).toBeUndefined();
    expect(normaliseNumber('02079460000', { countryCode: '44', nationalPrefix: '0' })).toBe('+442079460000');
  });
});

const PLAN: NumberEntry[] = [
  { number: '+912240000000', kind: 'pay', profile: 'generic' },
  { number: '02240000001', kind: 'pay', profile: 'uui' },
  { prefix: '+9122', kind: 'support' },
  { prefix: '0224000', kind: 'agent', agent: 'agent-2' },
  { pattern: '\\+9180\\d{8}', kind: 'pay' },
  { pattern: '\\+91.*', kind: 'agent', agent: 'agent-3' },
];

describe('compileNumberPlan: route(user)', () => {
  const plan = compileNumberPlan(PLAN, INDIA);
  it.each([
    ['+912240000000', { kind: 'pay', profile: 'generic', number: '+912240000000' }],
    ['02240000000', { kind: 'pay', profile: 'generic', number: '+912240000000' }],
    ['912240000001', { kind: 'pay', profile: 'uui', number: '+912240000001' }],
    ['+912240000099', { kind: 'agent', agent: 'agent-2', number: '+912240000099' }], // longest prefix wins
    ['+912230000000', { kind: 'support', number: '+912230000000' }],
    ['08012345678', { kind: 'pay', profile: undefined, number: '+918012345678' }], // pattern, whole number
    ['+91801234567', { kind: 'agent', agent: 'agent-3', number: '+91801234567' }], // first pattern is anchored: falls to the next
    ['+14155550100', undefined],
    ['pay', undefined],
    ['support', undefined],
  ])('%s -> %j', (user, route) => {
    expect(plan.route(user)).toEqual(route);
  });

  it('lists the profiles its pay entries name, once each', () => {
    expect(plan.profiles).toEqual(['generic', 'uui']);
  });

  it('refuses to build a plan with problems', () => {
    expect(() => compileNumberPlan([{ number: 'x', kind: 'pay' }], INDIA)).toThrow(/0\.number/);
  });
});

describe('numberPlanProblems: one line per bad entry', () => {
  it.each<[string, NumberEntry, string, RegExp]>([
    ['no match', { kind: 'pay' }, 'number', /exactly one of number, prefix or pattern/],
    ['two matches', { number: '+912240000000', prefix: '+91', kind: 'pay' }, 'prefix', /exactly one/],
    ['not a number', { number: '22-40', kind: 'pay' }, 'number', /not an E.164 number/],
    ['bad prefix', { prefix: 'abc', kind: 'support' }, 'prefix', /not the start of a number/],
    ['bad pattern', { pattern: '(+', kind: 'pay' }, 'pattern', /not a regular expression/],
    ['long pattern', { pattern: 'a'.repeat(201), kind: 'pay' }, 'pattern', /longer than 200/],
    ['agent without id', { number: '+912240000000', kind: 'agent' }, 'agent', /needs agent/],
    ['agent on pay', { number: '+912240000000', kind: 'pay', agent: 'agent-1' }, 'agent', /only kind agent/],
    ['profile on support', { number: '+912240000000', kind: 'support', profile: 'generic' }, 'profile', /only kind pay/],
    ['bad profile name', { number: '+912240000000', kind: 'pay', profile: '../etc' }, 'profile', /not a profile name/],
  ])('%s', (_, entry, field, message) => {
    const p = numberPlanProblems([entry], INDIA);
    expect(p).toHaveLength(1);
    expect(p[0]![0]).toBe(0);
    expect(p[0]![1]).toBe(field);
    expect(p[0]![2]).toMatch(message);
  });

  it('the same number in national and E.164 form twice is a repeat of the first', () => {
    expect(numberPlanProblems([{ number: '+912240000000', kind: 'pay' }, { number: '02240000000', kind: 'support' }], INDIA)).toEqual([[1, 'number', 'repeats entry 0 (+912240000000)']]);
  });
});

describe('the environment form', () => {
  it.each<[string, NumberEntry | RegExp]>([
    ['+912240000000 pay generic', { number: '+912240000000', kind: 'pay', profile: 'generic' }],
    ['+9122* support', { prefix: '+9122', kind: 'support' }],
    ['~\\+9180\\d{8} agent:agent-2', { pattern: '\\+9180\\d{8}', kind: 'agent', agent: 'agent-2' }],
    ['+912240000000', /must be/],
    ['+912240000000 ivr', /not pay, support or agent/],
  ])('%s', (text, want) => {
    const r = parseEntryText(text);
    if (want instanceof RegExp) expect(r).toMatch(want);
    else expect(r).toEqual(want);
  });

  it('a comma-separated list parses like the file list', () => {
    expect(numberEntries.parse('+912240000000 pay generic, 0224* support')).toEqual([
      { number: '+912240000000', kind: 'pay', profile: 'generic' },
      { prefix: '0224', kind: 'support' },
    ]);
  });
});

describe('loadConfig: the settings table refuses a bad plan with one precise line per entry', () => {
  it('names the variable, the entry and the field', () => {
    expect(problems({ ROUTING_NUMBERS: '+912240000000 pay, 02240000000 support, +91x* support' })).toEqual([
      'ROUTING_NUMBERS.1.number: repeats entry 0 (+912240000000)',
      'ROUTING_NUMBERS.2.prefix: "+91x" is not the start of a number (+<digits> or national form)',
    ]);
    expect(problems({ ROUTING_NUMBERS: '+912240000000 ivr' })).toEqual(['ROUTING_NUMBERS.0: "ivr" is not pay, support or agent:<id>']);
  });

  it('a good plan loads, and the country code and national prefix apply to it', () => {
    expect(problems({ ROUTING_NUMBERS: '02079460000 pay', ROUTING_COUNTRY_CODE: '44' })).toEqual([]);
    expect(problems({ ROUTING_NUMBERS: '02240000000 pay', ROUTING_NATIONAL_PREFIX: 'none' })[0]).toMatch(/^ROUTING_NUMBERS\.0\.number: "02240000000" is not an E.164 number/);
    expect(problems({ ROUTING_COUNTRY_CODE: '0' })[0]).toMatch(/^ROUTING_COUNTRY_CODE: /);
  });
});

describe('loadConfig: a bad plan is reported beside another bad setting', () => {
  it('both lines, in one start', () => {
    let issues: string[] = [];
    try {
      loadConfig({ SIP_PORT: '0', ROUTING_NUMBERS: '+912240000000 pay, 02240000000 support' });
    } catch (err) {
      if (err instanceof ConfigError) issues = err.issues;
    }
    expect(issues).toEqual([expect.stringMatching(/^SIP_PORT: /), 'ROUTING_NUMBERS.1.number: repeats entry 0 (+912240000000)']);
  });
});

describe('the DID pool (routing.didPool)', () => {
  it('expands numbers and first..last ranges in E.164 (national forms normalised) and routes them before every entry', () => {
    const plan = compileNumberPlan([{ prefix: '+9122', kind: 'support' }], INDIA, ['02240000100..+912240000103', '+912240000200']);
    expect(plan.pool).toEqual(['+912240000100', '+912240000101', '+912240000102', '+912240000103', '+912240000200']);
    expect(plan.route('022-4000-0102')).toEqual({ kind: 'pool', number: '+912240000102' });
    expect(plan.route('912240000200')).toEqual({ kind: 'pool', number: '+912240000200' });
    expect(plan.route('+912240000104')).toEqual({ kind: 'support', number: '+912240000104' });
  });

  it.each([
    [['+912240000100..'], /"" is not an E\.164 number/],
    [['+912240000109..+912240000100'], /the last number is below the first/],
    [['+912240000100..+9122400001000'], /both ends must have as many digits/],
    [['+912240000000..+912240009999'], /more than 1000 numbers/],
    [['+912240000100..+912240000101..+912240000102'], /must be a number or first\.\.last/],
    [['pay-1'], /"pay-1" is not an E\.164 number/],
    [['+912240000100..+912240000105', '02240000103'], /\+912240000103 is also in item 0/],
  ])('refuses %j', (items, re) => {
    const p = didPoolProblems(items, INDIA);
    expect(p).toHaveLength(1);
    expect(p[0]![2]).toMatch(re);
  });

  it('a pool DID that is also an exact number entry is refused (the entry could never be reached); the demo pool is there by default', () => {
    expect(problems({ ROUTING_DID_POOL: '+912240000000..+912240000003' })).toEqual([
      'ROUTING_DID_POOL.0: +912240000000 is also routing.numbers entry 0; a pool DID is matched first',
    ]);
    expect(problems({ ROUTING_NUMBERS: '02240000105 pay' })).toEqual([
      'ROUTING_DID_POOL.0: +912240000105 is also routing.numbers entry 0; a pool DID is matched first',
    ]);
    expect(problems({ ROUTING_NUMBERS: '02240000105 pay', ROUTING_DID_POOL: 'none' })).toEqual([]);
    expect(loadConfig({ ROUTING_DID_POOL: 'none' }).ROUTING_DID_POOL).toEqual([]);
    expect(problems({ ROUTING_DID_POOL_TTL_S: '5' })[0]).toMatch(/^ROUTING_DID_POOL_TTL_S: /);
    const c = loadConfig({});
    expect(compileNumberPlan(planSettings(c).entries, planSettings(c).numbering, planSettings(c).pool).pool).toHaveLength(10);
    expect(loadConfig({ ROUTING_DID_POOL: '+912240000300' }).ROUTING_DID_POOL).toEqual(['+912240000300']);
  });
});
