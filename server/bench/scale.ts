/**
 * `npm run bench:scale`: payments through a real Kamailio (sip-profiles/kamailio) in
 * front of one gateway, then of two gateways, the same offered load in one run, all sharing one
 * real redis-server; and the added latency of Redis event fan-out.
 *
 * Method: for each set-up, N payments (PayCustomer: RFC 4733 keys, each field once asked) start
 * 100 ms apart through Kamailio; a supervisor connection on `/events` of the first gateway
 * receives every event. Throughput = paid payments / wall time of the run; CPU = the gateways'
 * CPU seconds summed. Fan-out: for each event, arrival at the supervisor minus its `at` (the
 * publishing gateway's clock, ms resolution; all on one host): events of sessions run by the
 * gateway the supervisor is connected to arrive through its local delivery, those run by the other
 * gateway through Redis pub/sub — the difference is what Redis adds.
 * Writes server/bench/RESULTS.md between the bench:scale markers (`--no-write` to skip).
 */
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Kamailio } from '../devtools/kamailio.js';
import { RedisServer } from '../devtools/redis-server.js';
import { BENCH_OTP, BENCH_TOKEN, EventTap, level, type LevelResult } from './lib/capture-run.js';
import { GatewayProcess } from './lib/gateway.js';
import { freePort } from '../devtools/ports.js';
import { sleep } from '../devtools/procs.js';
import { pct, replaceMarkedSection } from './lib/report.js';
import { runBench } from './lib/run-bench.js';

const args = process.argv.slice(2);
const n = Number(args[args.indexOf('--calls') + 1] ?? '') || 20;
const write = !args.includes('--no-write');
const log = (s: string): void => void process.stdout.write(`${s}\n`);

interface RunResult { gateways: number; r: LevelResult; perSecond: number; fanout: { local: number[]; remote: number[] } }

async function startGateway(id: string, rtpMin: number, redisUrl: string): Promise<GatewayProcess> {
  const [sipPort, httpPort, pgPort] = [await freePort(), await freePort(), await freePort()];
  return GatewayProcess.start({
    sipPort, httpPort,
    env: {
      SIP_PORT: String(sipPort), HTTP_PORT: String(httpPort), DEMO_PG_PORT: String(pgPort), DEMO_OTP: BENCH_OTP, SUPERVISOR_TOKEN: BENCH_TOKEN,
      LOG_LEVEL: 'warn', RTP_PORT_MIN: String(rtpMin), RTP_PORT_MAX: String(rtpMin + 1999), INSTANCE_ID: id, REDIS_URL: redisUrl,
    },
  });
}

async function run(count: 1 | 2, redis: RedisServer): Promise<RunResult> {
  const gws = [await startGateway('gw-a', 41000, redis.url)];
  if (count === 2) gws.push(await startGateway('gw-b', 43000, redis.url));
  const kamailio = await Kamailio.start({ gateways: gws.map((g) => ({ host: '127.0.0.1', port: g.sipPort })) });
  await sleep(3000); // Kamailio's first OPTIONS probes
  const tap = await EventTap.open(gws[0]!.httpPort);
  try {
    const r = await level({ host: '127.0.0.1', port: kamailio.port }, gws.map((g) => g.pid), tap, n);
    // which instance ran each session: the shared store knows
    const res = await fetch(`http://127.0.0.1:${gws[0]!.httpPort}/api/sessions`, { headers: { authorization: `Bearer ${BENCH_TOKEN}` } });
    const owner = new Map(((await res.json()) as { sessions: { id: string; instanceId: string }[] }).sessions.map((s) => [s.id, s.instanceId]));
    const fanout = { local: [] as number[], remote: [] as number[] };
    for (const [sid, evs] of tap.bySession) {
      for (const e of evs) {
        if (!e.at) continue;
        (owner.get(sid) === 'gw-a' ? fanout.local : fanout.remote).push(e.receivedAt - Date.parse(e.at));
      }
    }
    return { gateways: count, r, perSecond: r.paid / r.wallS, fanout };
  } finally {
    tap.close();
    await kamailio.stop();
    for (const g of gws) await g.stop();
  }
}

const q = (xs: number[], p: number): string => (xs.length ? pct(xs, p).toFixed(1) : '-');

async function main(): Promise<void> {
  const redis = await RedisServer.start();
  const info = `${cpus()[0]?.model ?? '?'}, ${cpus().length} cores, Node ${process.version}, load average ${loadavg().map((x) => x.toFixed(2)).join(' ')} at start`;
  log(`bench:scale on ${info}; ${n} payments per set-up through Kamailio`);
  const rows: RunResult[] = [];
  try {
    for (const count of [1, 2] as const) {
      const x = await run(count, redis);
      rows.push(x);
      log(`${count} gateway(s): paid ${x.r.paid}/${n} in ${x.r.wallS} s (${x.perSecond.toFixed(2)} paid/s); digit->event p99 ${x.r.digits.p99} ms; CPU ${(x.r.cpuPerCapturePct * n).toFixed(0)} % of a core in all; fan-out local p50/p99 ${q(x.fanout.local, 50)}/${q(x.fanout.local, 99)} ms, via Redis p50/p99 ${q(x.fanout.remote, 50)}/${q(x.fanout.remote, 99)} ms (n ${x.fanout.remote.length})`);
    }
  } finally {
    await redis.stop();
  }
  const [one, two] = rows as [RunResult, RunResult];
  const ratio = two.perSecond / one.perSecond;
  log(`throughput ratio two/one: ${ratio.toFixed(2)}`);
  if (!write) return;
  const START = '<!-- bench:scale -->';
  const END = '<!-- /bench:scale -->';
  const body = [
    START,
    '## Scale-out (`npm run bench:scale`)',
    '',
    `Run ${new Date().toISOString()} on ${info}. Kamailio 5.6 (dispatcher, round-robin) in front; one redis-server shared by the gateways; each gateway its own process (\`npm start\`'s code).`,
    '',
    `Method: ${n} payments (RFC 4733 keys, each field once asked) start 100 ms apart through Kamailio, first against one gateway, then against two, in one run; a supervisor connection on \`/events\` of the first gateway receives every event. Throughput = paid / wall time; CPU = the gateways' CPU summed over the run. Fan-out = event arrival at the supervisor minus the event's \`at\` stamped by the publishing gateway (ms resolution, one host): *local* for sessions run by the gateway the supervisor is connected to, *via Redis* for the other gateway's (published, Lua-appended to its stream, pub/sub to the first gateway, hub, WebSocket).`,
    '',
    '| gateways | paid | wall s | paid/s | digit -> event p50 / p99 ms | CPU of all gateways | event fan-out local p50 / p99 ms | via Redis p50 / p99 ms |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map((x) => `| ${x.gateways} | ${x.r.paid}/${n} | ${x.r.wallS} | ${x.perSecond.toFixed(2)} | ${x.r.digits.p50} / ${x.r.digits.p99} | ${(x.r.cpuPerCapturePct * n).toFixed(0)} % of a core | ${q(x.fanout.local, 50)} / ${q(x.fanout.local, 99)} | ${q(x.fanout.remote, 50)} / ${q(x.fanout.remote, 99)} |`),
    '',
    `Throughput ratio (two gateways / one, same offered load): **${ratio.toFixed(2)}**. The offered load is the same in both set-ups and one gateway is not saturated by it, and both gateways share the same two cores here, so the ratio shows that spreading costs nothing, not a capacity gain: that needs one host (or core set) per gateway.`,
    END,
  ].join('\n');
  replaceMarkedSection(fileURLToPath(new URL('./RESULTS.md', import.meta.url)), START, END, body);
  log('wrote RESULTS.md');
}

await runBench(main);
