import { describe, expect, it } from 'vitest';
import { DigestLimits, parseAuthParams, parseAuthorization } from '../../../../src/sip/auth/index.js';

const FULL =
  'Digest username="Mufasa", realm="http-auth@example.org", uri="/dir/index.html", algorithm=SHA-256, ' +
  'nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", nc=00000001, ' +
  'cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", qop=auth, ' +
  'response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1", ' +
  'opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"';

const MIN = 'username="a", realm="r", nonce="n", uri="sip:gw", response="0123abcd"';

describe('parseAuthorization', () => {
  it('parses the RFC 7616 3.9.1 SHA-256 Authorization header', () => {
    expect(parseAuthorization(FULL)).toEqual({
      username: 'Mufasa',
      realm: 'http-auth@example.org',
      uri: '/dir/index.html',
      algorithm: 'SHA-256',
      nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
      nc: '00000001',
      cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
      qop: 'auth',
      response: '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1',
      opaque: 'FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS',
    });
  });

  it('accepts any order, odd whitespace, a folded line, a lower-case scheme and quoted qop/algorithm', () => {
    const v = parseAuthorization(
      'digest   response = "0123ABCD" ,\r\n\turi="sip:gw;transport=ws" ,nonce="n",realm="r",username="a",qop="auth",algorithm="md5"',
    );
    expect(v).toMatchObject({ username: 'a', uri: 'sip:gw;transport=ws', response: '0123ABCD', qop: 'auth', algorithm: 'md5' });
  });

  it('unescapes quoted-pairs and keeps commas and equals signs inside quotes', () => {
    const v = parseAuthorization(`Digest ${MIN.replace('username="a"', 'username="a\\"b\\\\c, d=e"')}`);
    expect(v).toMatchObject({ username: 'a"b\\c, d=e' });
  });

  it('ignores unknown parameters and tolerates empty list elements', () => {
    const v = parseAuthorization(`Digest ${MIN}, userhash=false, x-vendor="y",, `);
    expect(v).toMatchObject({ username: 'a', realm: 'r' });
    expect(v).not.toHaveProperty('userhash');
  });

  it('leaves optional fields absent when they are not sent (RFC 2069 form)', () => {
    const v = parseAuthorization(`Digest ${MIN}`);
    expect(v).toEqual({ username: 'a', realm: 'r', nonce: 'n', uri: 'sip:gw', response: '0123abcd' });
  });

  it('refuses the unknown scheme of RFC 4475 regaut01', () => {
    expect(parseAuthorization('NoOneKnowsThisScheme opaque-data=here')).toEqual({ error: 'unsupported scheme' });
    expect(parseAuthorization(`Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==`)).toEqual({ error: 'unsupported scheme' });
  });

  const malformed: Array<[string, string, RegExp]> = [
    ['empty header', '', /missing scheme/],
    ['whitespace only', '   ', /missing scheme/],
    ['scheme only', 'Digest', /missing parameters/],
    ['scheme glued to a quote', 'Digest"x"', /malformed scheme/],
    ['missing username', 'Digest realm="r", nonce="n", uri="u", response="00"', /missing parameter: username/],
    ['missing response', 'Digest username="a", realm="r", nonce="n", uri="u"', /missing parameter: response/],
    ['duplicate parameter', `Digest ${MIN}, realm="r2"`, /duplicate parameter: realm/],
    ['duplicate parameter, different case', `Digest ${MIN}, NONCE="x"`, /duplicate parameter: nonce/],
    ['unterminated quoted string', 'Digest username="a, realm="r', /unterminated|malformed/],
    ['backslash at the end of a quoted string', 'Digest username="a\\', /bad escape/],
    ['control character inside quotes', 'Digest username="a\u0000b", realm="r", nonce="n", uri="u", response="00"', /control character/],
    ['parameter without value', 'Digest username, realm="r"', /malformed parameter: username/],
    ['parameter with empty token value', 'Digest username=, realm="r"', /malformed value: username/],
    ['missing comma between parameters', 'Digest username="a" realm="r"', /malformed parameter list/],
    ['non-token name', 'Digest @bad="x"', /malformed parameter/],
    ['unquoted URI (not a token)', 'Digest username="a", realm="r", nonce="n", uri=sip:gw, response="00"', /malformed parameter list/],
    ['non-hex response', `Digest ${MIN.replace('0123abcd', 'zz')}`, /malformed response/],
    ['short nc', `Digest ${MIN}, qop=auth, nc=1, cnonce="c"`, /malformed nc/],
    ['header too long', `Digest ${MIN}, x="${'a'.repeat(DigestLimits.MAX_HEADER_CHARS)}"`, /header too long/],
    ['value too long', `Digest ${MIN}, x="${'a'.repeat(DigestLimits.MAX_VALUE_CHARS + 1)}"`, /parameter too long: x/],
    [
      'too many parameters',
      `Digest ${MIN}, ${Array.from({ length: DigestLimits.MAX_PARAMS }, (_, i) => `p${i}=1`).join(', ')}`,
      /too many parameters/,
    ],
  ];
  it.each(malformed)('rejects %s', (_name, header, error) => {
    const r = parseAuthorization(header);
    expect(r).toHaveProperty('error');
    expect((r as { error: string }).error).toMatch(error);
  });
});

describe('parseAuthParams', () => {
  it('parses a WWW-Authenticate challenge into lower-cased names', () => {
    const r = parseAuthParams('Digest Realm="gw", qop="auth", algorithm=SHA-256, stale=TRUE');
    expect(r).not.toHaveProperty('error');
    const { scheme, params } = r as Exclude<typeof r, { error: string }>;
    expect(scheme).toBe('Digest');
    expect(Object.fromEntries(params)).toEqual({ realm: 'gw', qop: 'auth', algorithm: 'SHA-256', stale: 'TRUE' });
  });
});
