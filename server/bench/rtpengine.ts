/**
 * Reference relay benchmark (npm run bench:rtpengine; or npx tsx server/bench/rtpengine.ts
 * [--steps=50,200,500] [--seconds=20] [--threads=N] [--no-write]).
 *
 * Run it under the shared bench lock: `flock /tmp/tonegate-bench.lock npm run bench:rtpengine`.
 *
 * For each step, relayCpu() (lib/rtpengine.ts) starts a fresh rtpengine from Debian in user-space
 * mode, sets up N calls over the ng protocol, sends 20 ms PCMU both ways through each (100 packets/s
 * into the relay per call), and measures rtpengine's CPU per 1000 packets it received. bench:load
 * puts tonegate's figure beside it by calling the same relayCpu().
 */
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { replaceMarkedSection } from './lib/report.js';
import { relayCpu, type RelayCpuResult } from './lib/rtpengine-relay.js';
import { runBench } from './lib/run-bench.js';

const START = '<!-- bench:rtpengine -->';
const END = '<!-- /bench:rtpengine -->';

const HEAD = ['sessions', 'packets/s in', 'delivered %', 'rtpengine CPU % (idle)', 'ms CPU / 1000 pkts', 'generator CPU %', 'box busy %', 'relay counted / sent', 'notes'];

function row(r: RelayCpuResult): string[] {
  return [
    String(r.sessions),
    r.packetsPerSecond.toFixed(0),
    (r.delivered * 100).toFixed(2),
    `${r.cpuPct.toFixed(1)} (${r.idleCpuPct.toFixed(1)})`,
    r.cpuPer1000Packets.toFixed(2),
    r.generatorCpuPct.toFixed(0),
    r.machineBusyPct.toFixed(0),
    `${r.packetsIn} / ${r.generatorSent}`,
    r.warnings.join('; ') || '-',
  ];
}

function consoleTable(rows: string[][]): string {
  const all = [HEAD, ...rows];
  const w = HEAD.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  return all.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padStart(w[i]!))).join('  ')).join('\n');
}

async function main(): Promise<void> {
  const arg = (name: string): string | undefined => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
  const steps = (arg('steps') ?? '50,200,500').split(',').map(Number);
  const seconds = Number(arg('seconds') ?? 20);
  const threads = arg('threads') ? Number(arg('threads')) : undefined;
  console.log(`bench:rtpengine: steps ${steps.join(', ')} sessions, ${seconds} s windows, node ${process.version}`);
  const results: RelayCpuResult[] = [];
  for (const n of steps) {
    const r = await relayCpu({ sessions: n, seconds, rtpengine: threads ? { numThreads: threads } : {} });
    results.push(r);
    console.log(consoleTable([row(r)]).split('\n')[1]);
  }
  const rows = results.map(row);
  console.log(`\n${consoleTable(rows)}`);
  const first = results[0]!;
  console.log(`\nrtpengine ${first.version}: ${first.command.join(' ')}`);
  if (process.argv.includes('--no-write')) return;
  const cmd = first.command.map((a) => (a.startsWith('--listen-ng=') ? '--listen-ng=127.0.0.1:<free port>' : a)).join(' ');
  const body = [
    START,
    '## Reference relay: rtpengine (`npm run bench:rtpengine`)',
    '',
    `Run ${new Date().toISOString()} on ${cpus()[0]?.model ?? '?'}, ${cpus().length} cores, Node ${process.version}, rtpengine ${first.version} (Debian package \`rtpengine-daemon\`), load average ${loadavg().map((x) => x.toFixed(2)).join(' ')} at the end.`,
    '',
    'Method: for each step a fresh rtpengine runs in user-space forwarding mode (no kernel module, `--table=-1`), controlled over its ng protocol from the harness. Per call the harness binds two UDP sockets on 127.0.0.1 (endpoints A and B), sends `offer` with A\'s SDP and `answer` with B\'s (PCMU, ptime 20), and points A and B at the ports rtpengine returned. One Node timer then sends 20 ms PCMU (160-byte payload, correct seq/timestamp/SSRC) from every A and every B, so 50 packets/s each way per call: 100 packets/s into the relay per call and 100 out. After 2 s of media, a window of the given length measures rtpengine\'s CPU time (user + system, all threads, from /proc/<pid>/stat), its own count of relayed packets (ng `statistics`, `totalstatistics.relayedpackets`, cross-checked against what the generator sent), and what arrived at the endpoints (right length and SSRC). **CPU per 1000 packets** = rtpengine CPU time in the window / packets rtpengine *received* in the window (each received packet is forwarded once), in ms per 1000 packets. "Idle" is rtpengine\'s CPU with no calls (1 s before the calls are set up); it is not subtracted. The generator runs in the harness process on the same 2 cores (its CPU is in the table): figures are for loopback, no network cost. Calls are deleted and rtpengine stopped after each step. rtpengine runs its default worker threads (one per core). "box busy" is the whole machine (other sessions share it; the bench holds the bench lock, so no other benchmark runs at the same time). When the generator\'s event loop stalls for more than 3 periods it skips the rest (noted per row); "packets/s in" is what the relay actually received.',
    '',
    `Command line (per step; the port range grows with the step): \`${cmd}\``,
    '',
    `| ${HEAD.join(' | ')} |`,
    `|${HEAD.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
    END,
  ].join('\n');
  replaceMarkedSection(fileURLToPath(new URL('./RESULTS.md', import.meta.url)), START, END, body);
  console.log('RESULTS.md: bench:rtpengine section written');
}

await runBench(main);
