import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configProblems, yamlFiles } from './config-problems.js';
import { loadConfig } from '../../../src/config/load.js';

const { dir, file } = yamlFiles('providers');
const problems = configProblems;

const TWO = `
providers:
  - name: one
    url: http://127.0.0.1:9001
    auth: { kind: apiKey, header: X-Acme-Key, secretEnv: KEY_ONE }
    merchants: [M-A]
    timeouts: { payMs: 2000, otpMs: 1500 }
    retry: { attempts: 2, baseMs: 50, maxMs: 100 }
    breaker: { failures: 2, windowSeconds: 10, openSeconds: 5 }
  - name: two
    url: http://127.0.0.1:9002
    auth: { kind: bearer, secretEnv: BEARER_TWO }
    merchants: [M-B]
providerRouting:
  default: one
  failover: [two]
`;

describe('providers in the configuration file', () => {
  it('a valid list: names, routing, failover, secrets from the environment (and _FILE)', () => {
    const secretFile = join(dir, 'bearer');
    writeFileSync(secretFile, 'bearer-two-secret\n');
    const c = loadConfig({ TONEGATE_CONFIG: file(TWO), KEY_ONE: 'key-one-secret', BEARER_TWO_FILE: secretFile });
    const plan = c.providerPlan!;
    expect(plan.providers.map((p) => p.name)).toEqual(['one', 'two']);
    expect(plan.defaultName).toBe('one');
    expect(plan.failover).toEqual(['two']);
    expect(plan.providers[0]).toMatchObject({ apiKey: { header: 'X-Acme-Key', value: 'key-one-secret' }, merchants: ['M-A'], timeouts: { payMs: 2000, otpMs: 1500 }, retry: { attempts: 2 }, breaker: { failures: 2 } });
    expect(plan.providers[1]).toMatchObject({ bearer: 'bearer-two-secret', merchants: ['M-B'] });
  });

  it('without providers: the single provider named default, from PAYMENT_* as today', () => {
    const c = loadConfig({ PAYMENT_API_URL: 'http://127.0.0.1:9009', PAYMENT_API_KEY: 'k'.repeat(8) });
    expect(c.providerPlan).toMatchObject({ defaultName: 'default', failover: [], providers: [{ name: 'default', url: 'http://127.0.0.1:9009', apiKey: { header: 'X-API-Key', value: 'kkkkkkkk' } }] });
    expect(loadConfig({}).providerPlan!.providers).toMatchObject([{ name: 'default', url: undefined }]);
  });

  it('the environment overrides the list entry named default key by key', () => {
    const path = file('providers:\n  - { name: default, url: "http://127.0.0.1:9001", merchants: [M-A], timeouts: { payMs: 3000 } }\n');
    const c = loadConfig({ TONEGATE_CONFIG: path, PAYMENT_API_URL: 'http://127.0.0.1:9555' });
    expect(c.providerPlan!.providers).toMatchObject([{ name: 'default', url: 'http://127.0.0.1:9555', merchants: ['M-A'], timeouts: { payMs: 3000 } }]);
  });

  it('PROVIDERS in the environment is the same list as JSON', () => {
    const c = loadConfig({ PROVIDERS: JSON.stringify([{ name: 'solo', url: 'http://127.0.0.1:9003' }]) });
    expect(c.providerPlan).toMatchObject({ defaultName: 'solo', providers: [{ name: 'solo' }] });
    expect(problems({ PROVIDERS: '[{name:' })).toEqual(['PROVIDERS: must be a list of providers: a YAML list in the file, a JSON list in the environment']);
  });

  it('each problem is one line naming the key path', () => {
    const path = file(`
providers:
  - name: one
    url: http://127.0.0.1:9001
    auth: { kind: apiKey, secretEnv: MISSING_KEY }
    merchants: [M-A]
  - name: one
    url: http://127.0.0.1:9002
    auth: { kind: bearer }
    tls: { certFile: /tmp/c.pem }
  - name: three
    url: http://127.0.0.1:9003
    merchants: [M-B, M-A]
providerRouting:
  default: nobody
  failover: [one, ghost]
`);
    const out = problems({ TONEGATE_CONFIG: path });
    expect(out).toEqual([
      `providers.0.auth.secretEnv (${path}): MISSING_KEY is not set (nor MISSING_KEY_FILE) in the environment`,
      `providers.1.auth.secretEnv (${path}): required with auth kind bearer (the environment variable holding the credential)`,
      `providers.1.tls.keyFile (${path}): mutual TLS needs both tls.certFile and tls.keyFile: certFile is set, keyFile is not (tls.caFile alone is enough to trust a private CA)`,
      `providers.1.name (${path}): repeats providers.0 (one)`,
      `providers.2.merchants.1 (${path}): M-A is already routed to one`,
      'providerRouting.default: nobody is not a configured provider (one, one, three)',
      'providerRouting.failover.1: ghost is not a configured provider (one, one, three)',
    ]);
  });

  describe('tls: the CA and the client certificate are independent; certFile and keyFile go together', () => {
    const entry = (tls: string): string => `providers:\n  - { name: a, url: "https://127.0.0.1:1", tls: ${tls} }\n`;
    it.each<[string, string, object]>([
      ['caFile alone (a private CA, no mutual TLS)', '{ caFile: /etc/ca.pem }', { caFile: '/etc/ca.pem' }],
      ['certFile and keyFile (mutual TLS, the system CAs)', '{ certFile: /etc/c.pem, keyFile: /etc/k.pem }', { certFile: '/etc/c.pem', keyFile: '/etc/k.pem' }],
      ['all three', '{ certFile: /etc/c.pem, keyFile: /etc/k.pem, caFile: /etc/ca.pem }', { certFile: '/etc/c.pem', keyFile: '/etc/k.pem', caFile: '/etc/ca.pem' }],
      ['none', '{}', {}],
    ])('valid: %s', (_name, tls, want) => {
      const path = file(entry(tls));
      expect(problems({ TONEGATE_CONFIG: path })).toEqual([]);
      expect(loadConfig({ TONEGATE_CONFIG: path }).providerPlan!.providers[0]!.tls).toEqual(want);
    });

    it.each<[string, string, string]>([
      ['certFile without keyFile', '{ certFile: /etc/c.pem }', 'providers.0.tls.keyFile (PATH): mutual TLS needs both tls.certFile and tls.keyFile: certFile is set, keyFile is not (tls.caFile alone is enough to trust a private CA)'],
      ['keyFile without certFile, with caFile', '{ keyFile: /etc/k.pem, caFile: /etc/ca.pem }', 'providers.0.tls.certFile (PATH): mutual TLS needs both tls.certFile and tls.keyFile: keyFile is set, certFile is not (tls.caFile alone is enough to trust a private CA)'],
    ])('refused: %s, naming both keys', (_name, tls, want) => {
      const path = file(entry(tls));
      expect(problems({ TONEGATE_CONFIG: path })).toEqual([want.replace('PATH', path)]);
    });

    it('PAYMENT_TLS_CA_FILE alone is the default provider\'s caFile', () => {
      const c = loadConfig({ PAYMENT_API_URL: 'https://127.0.0.1:9009', PAYMENT_TLS_CA_FILE: '/etc/ca.pem' });
      expect(c.providerPlan!.providers).toMatchObject([{ name: 'default', tls: { caFile: '/etc/ca.pem' } }]);
    });
  });

  it('several providers need a default; a secret in the file is refused; unknown keys are named', () => {
    const two = 'providers:\n  - { name: a, url: "http://127.0.0.1:1" }\n  - { name: b, url: "http://127.0.0.1:2" }\n';
    expect(problems({ TONEGATE_CONFIG: file(two) })).toEqual(['providerRouting.default: required with several providers (one of a, b)']);
    const secret = 'providers:\n  - { name: a, url: "http://127.0.0.1:1", auth: { kind: apiKey, secret: hunter2hunter2 } }\n';
    const out = problems({ TONEGATE_CONFIG: file(secret) });
    expect(out).toEqual([expect.stringMatching(/^providers\.0\.auth\.secret: looks like a secret/)]);
    expect(out.join('\n')).not.toContain('hunter2');
    expect(problems({ TONEGATE_CONFIG: file('providers:\n  - { name: a, url: "http://127.0.0.1:1", timeout: 5 }\n') })).toEqual(['providers.0.timeout: unknown key']);
    expect(problems({ TONEGATE_CONFIG: file('providers:\n  - { name: A B, url: "http://127.0.0.1:1" }\n') })).toEqual(['providers.0.name: a provider name: lower-case letters, digits and -, at most 32']);
  });

  it('production: every provider needs an https: URL, named by its key', () => {
    const path = file('providers:\n  - { name: a, url: "http://pg.example.com" }\n  - { name: b, url: "https://pg2.example.com" }\nproviderRouting: { default: b }\n');
    const out = problems({ TONEGATE_MODE: 'production', TONEGATE_CONFIG: path });
    expect(out).toContain('providers.0.url: must be an https: URL in production');
    expect(out.some((l) => l.startsWith('providers.1.url'))).toBe(false);
    expect(out.some((l) => l.startsWith('PAYMENT_API_URL'))).toBe(false);
  });
});
