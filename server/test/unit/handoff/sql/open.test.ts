import { describe, expect, it } from 'vitest';
import { openSqlLookups, parseSipProfile, type LoadedProfile, type SqlDatabase } from '../../../../src/handoff/index.js';
import { lookupUrlProblem } from '../../../../src/handoff/sql/pg.js';

const loaded = (kind: string, name = kind): LoadedProfile => ({
  profile: parseSipProfile({ name, kind, ...(kind === 'sql' ? { sql: { query: 'SELECT * FROM r WHERE c = $caller' } } : {}), ...(kind === 'uui' ? { uui: {} } : {}) }),
  signingKey: undefined,
});
const settings = { LOOKUP_TIMEOUT_MS: 2000, LOOKUP_POOL_MAX: 4 };
const numbering = { countryCode: '91', nationalPrefix: '0' };

describe('lookupUrlProblem: LOOKUP_DATABASE_URL may not undo read-only or the timeout', () => {
  it.each([
    ['postgres://u:p@db.example:5432/lookup', undefined],
    ['postgresql://u@db/lookup?sslmode=verify-full&sslrootcert=/etc/ca.pem&application_name=gw', undefined],
    ['postgres://u@db/lookup?options=-c%20default_transaction_read_only%3Doff', /may not set options/],
    ['postgres://u@db/lookup?statement_timeout=0', /may not set statement_timeout/],
    ['mysql://u@db/lookup', /must be postgres/],
    ['not a url', /is not a URL/],
  ])('%s', (url, want) => {
    const p = lookupUrlProblem(url);
    if (want === undefined) expect(p).toBeUndefined();
    else expect(p).toMatch(want);
  });

  it('the problem never echoes the password', () => {
    expect(lookupUrlProblem('postgres://u:s3cret@db/x?options=1')).not.toContain('s3cret');
  });
});

describe('openSqlLookups', () => {
  const db: SqlDatabase = { query: async () => [], close: async () => {} };

  it('opens nothing when no profile is of kind sql', () => {
    let opened = 0;
    const r = openSqlLookups({ configured: loaded('headers', 'generic'), api: loaded('api') }, settings, numbering, () => {}, () => (opened++, db));
    expect(opened).toBe(0);
    expect(r.profiles.configured.sql).toBeUndefined();
  });

  it('one database for every sql profile, attached to those only', () => {
    let opened = 0;
    const named = new Map([['sql-caller', loaded('sql', 'sql-caller')], ['generic', loaded('headers', 'generic')]]);
    const r = openSqlLookups({ configured: loaded('headers', 'generic'), api: loaded('api'), named }, { ...settings, LOOKUP_DATABASE_URL: 'postgres://u@db/x' }, numbering, () => {}, () => (opened++, db));
    expect(opened).toBe(1);
    expect(r.profiles.named?.get('sql-caller')?.sql?.db).toBe(db);
    expect(r.profiles.named?.get('sql-caller')?.sql?.numbering).toEqual(numbering);
    expect(r.profiles.named?.get('generic')?.sql).toBeUndefined();
  });

  it('a sql profile without LOOKUP_DATABASE_URL stops the start naming it', () => {
    expect(() => openSqlLookups({ configured: loaded('sql', 'sql-caller'), api: loaded('api') }, settings, numbering, () => {})).toThrow(
      'LOOKUP_DATABASE_URL: required by SIP profile sql-caller (kind sql)',
    );
  });

  it('a URL with a refused parameter stops the start (the real PostgreSQL opener)', () => {
    expect(() => openSqlLookups({ configured: loaded('sql', 'sql-caller'), api: loaded('api') }, { ...settings, LOOKUP_DATABASE_URL: 'postgres://u@db/x?options=x' }, numbering, () => {})).toThrow(
      /LOOKUP_DATABASE_URL may not set options/,
    );
  });
});
