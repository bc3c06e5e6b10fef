import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ContactLimits, parseContacts } from '../../../../src/calls/registrar/index.js';

const REPO_ROOT = fileURLToPath(new URL('../../../../../', import.meta.url));
const RFC4475 = new URL('server/test/fixtures/rfc4475/', `file://${REPO_ROOT}`);

/** Contact (or compact `m`) header values of an RFC 4475 message, by a simple split. */
function contactValues(file: string): string[] {
  const text = readFileSync(new URL(file, RFC4475), 'latin1');
  const head = text.split('\r\n\r\n')[0]!;
  return head
    .split('\r\n')
    .map((line) => /^(?:contact|m)\s*:\s*(.*)$/i.exec(line)?.[1])
    .filter((v): v is string => v !== undefined);
}

describe('parseContacts on RFC 4475 REGISTER messages (3.3.12-3.3.14): kept, not applied', () => {
  it('cparam01: addr-spec form, so ;unknownparam is a contact parameter', () => {
    expect(contactValues('cparam01.dat')).toEqual(['sip:+19725552222@gw1.example.net;unknownparam']);
    expect(parseContacts(contactValues('cparam01.dat'))).toEqual([
      { uri: 'sip:+19725552222@gw1.example.net', params: { unknownparam: '' } },
    ]);
  });
  it('cparam02: name-addr form, so ;unknownparam stays inside the URI', () => {
    expect(parseContacts(contactValues('cparam02.dat'))).toEqual([
      { uri: 'sip:+19725552222@gw1.example.net;unknownparam', params: {} },
    ]);
  });
  it('regescrt: the escaped Route header stays in the URI verbatim (compact m: form)', () => {
    expect(parseContacts(contactValues('regescrt.dat'))).toEqual([
      { uri: 'sip:user@example.com?Route=%3Csip:sip.example.com%3E', params: {} },
    ]);
  });
  it('regbadct: an escaped header outside <> is refused (400)', () => {
    expect(parseContacts(contactValues('regbadct.dat'))).toHaveProperty('error');
  });
});

describe('parseContacts', () => {
  const ok: Array<[string, string[], unknown]> = [
    ['no Contact (a query)', [], []],
    ['a lone star', ['*'], '*'],
    ['a star with spaces', ['  * '], '*'],
    ['name-addr with quoted display name holding a comma and <',
      ['"Agent, One <1>" <sip:agent-1@10.0.0.5:5060;transport=tcp>;expires=300'],
      [{ uri: 'sip:agent-1@10.0.0.5:5060;transport=tcp', displayName: 'Agent, One <1>', params: { expires: '300' }, expires: 300 }]],
    ['name-addr with token display name', ['Agent  One <sip:a@h>'], [{ uri: 'sip:a@h', displayName: 'Agent  One', params: {} }]],
    ['escaped quote in display name', ['"a \\"b\\"" <sip:a@h>'], [{ uri: 'sip:a@h', displayName: 'a "b"', params: {} }]],
    ['two contacts in one value, comma inside <>',
      ['<sip:a@h;x=1,2>;q=0.5, sip:b@h;expires=0'],
      [{ uri: 'sip:a@h;x=1,2', params: { q: '0.5' }, q: 0.5 }, { uri: 'sip:b@h', params: { expires: '0' }, expires: 0 }]],
    ['two header rows', ['<sip:a@h>', '<sip:b@h>'], [{ uri: 'sip:a@h', params: {} }, { uri: 'sip:b@h', params: {} }]],
    ['sip.js WebSocket contact with +sip.instance and reg-id',
      ['<sip:k3j2@df7jal23ls0d.invalid;transport=ws>;+sip.ice;reg-id=1;+sip.instance="<urn:uuid:0f1e-2d3c>";expires=600'],
      [{
        uri: 'sip:k3j2@df7jal23ls0d.invalid;transport=ws',
        params: { '+sip.ice': '', 'reg-id': '1', '+sip.instance': '"<urn:uuid:0f1e-2d3c>"', expires: '600' },
        expires: 600,
        instance: '<urn:uuid:0f1e-2d3c>',
      }]],
    ['addr-spec with +sip.instance holding <> in quotes',
      ['sip:a@h;+sip.instance="<urn:uuid:1>"'],
      [{ uri: 'sip:a@h', params: { '+sip.instance': '"<urn:uuid:1>"' }, instance: '<urn:uuid:1>' }]],
    ['parameter names are lower-cased, values kept as written', ['<sip:a@h>;Expires=60;X-Foo=BaR'],
      [{ uri: 'sip:a@h', params: { expires: '60', 'x-foo': 'BaR' }, expires: 60 }]],
    ['IPv6 host as gen-value', ['<sip:a@h>;received=[2001:db8::1]'], [{ uri: 'sip:a@h', params: { received: '[2001:db8::1]' } }]],
    ['malformed expires is treated as 3600 (RFC 3261 20.10)', ['<sip:a@h>;expires=soon'],
      [{ uri: 'sip:a@h', params: { expires: 'soon' }, expires: 3600 }]],
    ['a huge expires is capped at 2^32-1', ['<sip:a@h>;expires=99999999999'],
      [{ uri: 'sip:a@h', params: { expires: '99999999999' }, expires: 4_294_967_295 }]],
    ['a parameter named __proto__ is plain data', ['<sip:a@h>;__proto__=x'], [{ uri: 'sip:a@h', params: { ['__proto__']: 'x' } }]],
    ['tel URI', ['<tel:+919876543210>'], [{ uri: 'tel:+919876543210', params: {} }]],
  ];
  it.each(ok)('parses %s', (_name, values, expected) => {
    expect(parseContacts(values)).toEqual(expected);
  });

  it('keeps a parameter named __proto__ as an own property', () => {
    const r = parseContacts(['<sip:a@h>;__proto__=x']);
    expect(Array.isArray(r) && Object.hasOwn(r[0]!.params, '__proto__')).toBe(true);
  });

  const bad: Array<[string, string[], RegExp]> = [
    ['star with another contact', ['*, <sip:a@h>'], /\* with other/],
    ['star in a second row', ['<sip:a@h>', '*'], /\* with other/],
    ['empty value', [''], /empty contact/],
    ['empty element', ['<sip:a@h>,,<sip:b@h>'], /empty contact/],
    ['unterminated quote', ['"abc <sip:a@h>'], /unterminated/],
    ['unbalanced <', ['<sip:a@h'], /unbalanced/],
    ['unbalanced >', ['sip:a@h>'], /unbalanced/],
    ['nested <', ['<<sip:a@h>>'], /nested/],
    ['no scheme', ['<a@h>'], /malformed URI/],
    ['space in URI', ['<sip:a @h>'], /malformed URI/],
    ['text after the URI', ['<sip:a@h> junk'], /unexpected text/],
    ['bad display name', ['a@b <sip:a@h>'], /display name/],
    ['malformed q', ['<sip:a@h>;q=1.5'], /malformed q/],
    ['duplicate parameter', ['<sip:a@h>;expires=1;EXPIRES=2'], /duplicate parameter: expires/],
    ['bad parameter value', ['<sip:a@h>;x=a b'], /malformed parameter: x/],
    ['bad parameter name', ['<sip:a@h>;=1'], /malformed parameter/],
    ['too many contacts', [Array.from({ length: ContactLimits.MAX_CONTACTS + 1 }, (_, i) => `<sip:a${i}@h>`).join(',')], /too many contacts/],
    ['too many parameters', [`<sip:a@h>${Array.from({ length: ContactLimits.MAX_PARAMS + 1 }, (_, i) => `;p${i}`).join('')}`], /too many parameters/],
    ['URI too long', [`<sip:${'a'.repeat(ContactLimits.MAX_URI_CHARS)}@h>`], /URI too long/],
    ['header too long', [`<sip:a@h>;x="${'a'.repeat(ContactLimits.MAX_HEADER_CHARS)}"`], /Contact too long/],
  ];
  it.each(bad)('refuses %s', (_name, values, error) => {
    const r = parseContacts(values);
    expect(r).toHaveProperty('error');
    expect((r as { error: string }).error).toMatch(error);
  });
});
