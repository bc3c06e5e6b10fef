import { describe, expect, it } from 'vitest';
import { callerNumber, uriUser } from '../../../../src/handoff/sql/caller.js';
import { compileSqlQuery } from '../../../../src/handoff/sql/query.js';

const INDIA = { countryCode: '91', nationalPrefix: '0' };

describe('compileSqlQuery: named parameters become bound positions, never text', () => {
  it.each([
    ['SELECT * FROM r WHERE caller = $caller', 'SELECT * FROM (SELECT * FROM r WHERE caller = $1) AS tonegate_lookup LIMIT 2', ['caller']],
    ['select * from r where did = $did and caller = $caller and alt = $caller', 'SELECT * FROM (select * from r where did = $1 and caller = $2 and alt = $2) AS tonegate_lookup LIMIT 2', ['did', 'caller']],
    ['  WITH x AS (SELECT 1) SELECT * FROM r WHERE ref = $reference  ', 'SELECT * FROM (WITH x AS (SELECT 1) SELECT * FROM r WHERE ref = $1) AS tonegate_lookup LIMIT 2', ['reference']],
  ])('%s', (query, text, params) => {
    expect(compileSqlQuery(query)).toEqual({ text, params });
  });

  it.each([
    ['SELECT * FROM r WHERE caller = $1', /"\$1" is not a parameter/],
    ['SELECT * FROM r WHERE caller = $callerid', /"\$callerid" is not a parameter/],
    ['SELECT $$x$$ FROM r WHERE caller = $caller', /"\$\$" is not a parameter/],
    ['SELECT * FROM r WHERE caller = $caller; DELETE FROM r', /one statement/],
    ['SELECT * FROM r WHERE caller = $caller -- and more', /comments/],
    ['SELECT * FROM r /* x */ WHERE caller = $caller', /comments/],
    ['DELETE FROM r WHERE caller = $caller RETURNING *', /must be a SELECT/],
    ['SELECT * FROM r', /names no parameter/],
    ['SELECT * FROM r WHERE caller = $caller\u0000', /control characters/],
    [`SELECT * FROM r WHERE caller = $caller ${'x'.repeat(4000)}`, /longer than 4000/],
  ])('refused: %s', (query, why) => {
    const r = compileSqlQuery(query);
    expect('problem' in r && r.problem).toMatch(why);
  });
});

describe('uriUser: the user of a From / P-Asserted-Identity value', () => {
  it.each([
    ['<sip:+919812340001@carrier.example;user=phone>;tag=abc', '+919812340001'],
    ['"Asha" <sip:09812340001@10.0.0.1>;tag=1', '09812340001'],
    ['sip:919812340001@10.0.0.1;tag=1', '919812340001'],
    ['<tel:+91-98123-40001;phone-context=x>', '+91-98123-40001'],
    ['<sips:%2B919812340001@gw>', '+919812340001'],
    ['<sip:+919812340001;isub=1@gw>', '+919812340001'],
    ['<sip:gw.example>', undefined],
    ['<mailto:a@b>', undefined],
    ['<sip:%zz@gw>', undefined],
  ])('%s -> %s', (value, user) => {
    expect(uriUser(value)).toBe(user);
  });
});

describe('callerNumber: P-Asserted-Identity first (RFC 3325), else From, normalised to E.164', () => {
  const h = (m: Record<string, string>) => (n: string) => m[n];
  it.each([
    [{ From: '<sip:+919812340001@pbx>;tag=1' }, { ok: true, number: '+919812340001', field: 'From' }],
    [{ From: '<sip:09812340001@pbx>;tag=1' }, { ok: true, number: '+919812340001', field: 'From' }],
    [{ From: '<sip:919812340001@pbx>;tag=1' }, { ok: true, number: '+919812340001', field: 'From' }],
    [{ From: '<sip:+919800000009@pbx>', 'P-Asserted-Identity': '<sip:+919812340001@carrier>' }, { ok: true, number: '+919812340001', field: 'P-Asserted-Identity' }],
    [{ 'P-Asserted-Identity': '"A" <sip:asha@carrier>, <tel:+919812340001>' }, { ok: true, number: '+919812340001', field: 'P-Asserted-Identity' }],
    [{ From: '<sip:customer@127.0.0.1>;tag=1' }, { ok: false, field: 'From', reason: 'no caller number (E.164, or national form) in it' }],
    [{ From: '<sip:+919812340001@pbx>', 'P-Asserted-Identity': '<sip:anonymous@anonymous.invalid>' }, { ok: false, field: 'P-Asserted-Identity', reason: 'no caller number (E.164, or national form) in it' }],
    [{}, { ok: false, field: 'From', reason: 'missing' }],
    [{ From: '<sip:12345@pbx>' }, { ok: false, field: 'From', reason: 'no caller number (E.164, or national form) in it' }],
  ])('%j', (headers, want) => {
    expect(callerNumber(h(headers), INDIA)).toEqual(want);
  });
});
