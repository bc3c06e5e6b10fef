import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { FILE_VARIANTS, loadConfig } from '../../../src/config/load.js';
import { configSchema, SECRET_NAMES } from '../../../src/config/schema.js';
import { hashCredential } from '../../../src/security/credentials.js';

/**
 * There is no Docker engine on these machines (issue 6 part 7), so the Docker files are checked
 * against what they describe: every variable and port in docker/compose.yaml and the Dockerfile
 * is one the gateway's config schema knows, the ports match the variables, the image runs the
 * same command as `npm start`, and Kamailio's files are the profile's, not a drifting copy.
 */
const repo = fileURLToPath(new URL('../../../../', import.meta.url));
const read = (p: string): string => readFileSync(`${repo}${p}`, 'utf8');
const known = new Set(Object.keys(configSchema.shape));
const OPTIONAL_SECRETS = new Set(['METRICS_TOKEN', 'REDIS_PASSWORD', 'WEBHOOK_SECRET', 'PAYMENT_API_KEY', 'PAYMENT_API_BEARER', 'LOOKUP_DATABASE_URL']);
/** What compose may set besides the settings: their `<NAME>_FILE` variants and the config file. */
const knownInCompose = new Set([...known, ...FILE_VARIANTS.map((n) => `${n}_FILE`), 'TONEGATE_CONFIG']);
const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string> };

interface Service {
  environment?: Record<string, string>;
  secrets?: string[];
  volumes?: string[];
  ports?: string[];
  command?: string[];
  build?: { dockerfile: string };
  networks?: Record<string, { ipv4_address: string }>;
}
const compose = parse(read('docker/compose.yaml')) as { services: Record<string, Service>; secrets?: Record<string, { file: string }> };
const gateways = Object.entries(compose.services).filter(([, s]) => s.build?.dockerfile === 'docker/Dockerfile');
const dockerfile = read('docker/Dockerfile');

describe('docker/compose.yaml', () => {
  it('runs two gateways, redis and kamailio', () => {
    expect(gateways.map(([n]) => n).sort()).toEqual(['gw1', 'gw2']);
    expect(Object.keys(compose.services).sort()).toEqual(['gw1', 'gw2', 'kamailio', 'redis']);
  });

  it.each(gateways)('%s: every environment variable is a setting, its _FILE variant or TONEGATE_CONFIG', (_name, svc) => {
    for (const k of Object.keys(svc.environment ?? {})) expect(knownInCompose, k).toContain(k);
  });

  it('requires its secrets: no ${VAR:-fallback}, every secret a Docker secret file under docker/secrets/, none inline', () => {
    const text = read('docker/compose.yaml');
    expect(text).not.toMatch(/\$\{[A-Z_]+:?-/);
    for (const [, svc] of gateways) {
      const env = svc.environment ?? {};
      // Every secret but the optional ones (a /metrics token, a Redis password, the webhook key, provider credentials).
      for (const name of SECRET_NAMES.filter((n) => !OPTIONAL_SECRETS.has(n))) {
        expect(env, name).not.toHaveProperty(name);
        expect(env[`${name}_FILE`], `${name}_FILE`).toMatch(/^\/run\/secrets\/[a-z_]+$/);
        expect(svc.secrets).toContain(env[`${name}_FILE`]!.slice('/run/secrets/'.length));
      }
    }
    for (const s of Object.values(compose.secrets ?? {})) expect(s.file).toMatch(/^\.\/secrets\//);
  });

  it.each(gateways)('%s: with its secrets present, the production configuration it describes loads (every start requirement met)', (_name, svc) => {
    // Stand-ins for the files compose mounts: docker/secrets/* and docker/tonegate.yaml.
    const dir = mkdtempSync(join(tmpdir(), 'tg-compose-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=gw',
      '-keyout', join(dir, 'tls_key'), '-out', join(dir, 'tls_cert')], { stdio: 'ignore' });
    writeFileSync(join(dir, 'agents'), `agent-1:${hashCredential('agent-1', 'tonegate', 'a long test password')}\n`);
    writeFileSync(join(dir, 'supervisors'), `sup-1:${hashCredential('sup-1', 'tonegate', 'a long test password', undefined, { digest: false })}:JBSWY3DPEHPK3PXP\n`);
    for (const f of ['supervisor_token', 'handoff_api_key', 'handoff_hmac_key', 'redis_password']) writeFileSync(join(dir, f), `${f}-0123456789abcdef\n`);
    writeFileSync(join(dir, 'audit_key'), `${'ab'.repeat(32)}\n`);
    const mounted = Object.fromEntries((svc.volumes ?? []).map((v) => v.split(':')).map(([from, to]) => [to!, join(repo, 'docker', from!)]));
    const env = Object.fromEntries(
      Object.entries(svc.environment ?? {}).map(([k, v]) => {
        let value = String(v).replace(/\$\{PAYMENT_API_URL:\?[^}]*\}/g, 'https://pg.example.com/v1');
        if (value.startsWith('/run/secrets/')) value = join(dir, value.slice('/run/secrets/'.length));
        value = mounted[value] ?? value;
        return [k, value];
      }),
    );
    expect(env['TONEGATE_CONFIG']).toBe(join(repo, 'docker', 'tonegate.yaml'));
    const c = loadConfig(env);
    expect(c.TONEGATE_MODE).toBe('production');
    expect(c.TRUSTED_PEERS.map((p) => p.text)).toEqual([`${compose.services['kamailio']!.networks!['tonegate']!.ipv4_address}/32`]);
    expect(c.REDIS_URL).toBe('redis://redis:6379');
    expect(c.sms?.peId).toBe('1201000000000000001'); // its own DLT registration (production refuses none or the demo one)
  });

  it.each(gateways)('%s: published ports are the configured HTTP port and RTP range, and it lives at SIP_HOST', (_name, svc) => {
    const env = svc.environment!;
    const inside = (svc.ports ?? []).map((p) => p.split(':')[1]!);
    expect(inside).toContain(env['HTTP_PORT']);
    expect(inside).toContain(`${env['RTP_PORT_MIN']}-${env['RTP_PORT_MAX']}/udp`);
    expect(Object.values(svc.networks ?? {})[0]?.ipv4_address).toBe(env['SIP_HOST']);
  });

  it('kamailio dispatches to exactly the gateways, at their SIP_HOST:SIP_PORT', () => {
    const list = read('docker/dispatcher.list').split('\n').filter((l) => /^\d/.test(l)).map((l) => l.split(/\s+/)[1]);
    expect(list.sort()).toEqual(gateways.map(([, s]) => `sip:${s.environment!['SIP_HOST']}:${s.environment!['SIP_PORT']}`).sort());
    expect(compose.services['kamailio']!.ports).toContain('5060:5060/udp');
  });

  it('docker/kamailio.cfg is sip-profiles/kamailio/kamailio.cfg with the compose addresses filled in', () => {
    const addr = compose.services['kamailio']!.networks!['tonegate']!.ipv4_address;
    const expected = read('sip-profiles/kamailio/kamailio.cfg')
      .replace(/LISTEN_ADDR/g, addr)
      .replace(/LISTEN_PORT/g, '5060')
      .replace(/DISPATCHER_LIST/g, '/etc/kamailio/dispatcher.list')
      .replace(/RUN_DIR/g, '/run/kamailio')
      .replace(/TRUSTED_PEERS_FILE/g, '/etc/kamailio/trusted-peers.list')
      .replace(/WSS_PORT/g, '8443')
      .replace(/WS_PORT/g, '8080')
      .replace(/TLS_CONFIG/g, '/etc/kamailio/tls.cfg');
    expect(read('docker/kamailio.cfg')).toBe(expected);
    // The agents' SIP WebSocket front (README, "Redis, metrics, audit"): defined and published.
    expect(compose.services['kamailio']!.command).toEqual(['kamailio', '-DD', '-E', '-A', 'WITH_WEBSOCKET', '-f', '/etc/kamailio/kamailio.cfg']);
    expect(compose.services['kamailio']!.volumes).toContain('./trusted-peers.list:/etc/kamailio/trusted-peers.list:ro');
  });
});

describe('docker/Dockerfile', () => {
  it('is multi-stage on Node 20 slim and runs as the non-root node user with a /healthz check', () => {
    expect(dockerfile.match(/^FROM node:20-[a-z]+-slim AS \w+/gm)).toHaveLength(2);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK .*\n.*\/healthz/m);
  });

  it('sets only variables the config schema knows (plus NODE_ENV)', () => {
    const env = /^ENV ([\s\S]*?)\n(?!\s)/m.exec(dockerfile)![1]!;
    const keys = [...env.matchAll(/([A-Z_]+)=/g)].map((m) => m[1]!);
    expect(keys.length).toBeGreaterThan(3);
    for (const k of keys) if (k !== 'NODE_ENV') expect(known, k).toContain(k);
  });

  it('its commands match the package scripts: the CMD is `npm run start:production` (compiled JS), the build uses `npm run build`', () => {
    const cmd = (JSON.parse(/^CMD (\[.*\])$/m.exec(dockerfile)![1]!) as string[]).join(' ');
    expect(cmd).toBe(pkg.scripts['start:production']);
    expect(dockerfile).toMatch(/^RUN npm run build\b/m);
    for (const m of dockerfile.matchAll(/npm run ([\w:]+)/g)) expect(Object.keys(pkg.scripts)).toContain(m[1]);
    expect(dockerfile).toMatch(/EXPOSE .*5060\/udp.*8080\/tcp/);
  });
});
