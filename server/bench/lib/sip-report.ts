/** What `npm run bench:sip` found, as its section of server/bench/RESULTS.md (and the memory summary line). */
import { cpus } from 'node:os';
import type { ProfileSummary } from './cpuprofile.js';
import { markdownTable, type StepResult } from './report.js';
import { TARGET, type SipOptions } from './sip-options.js';
import type { MemoryResult } from './sip-steps.js';

export const mb = (b: number): string => (b / 2 ** 20).toFixed(1);
const kb = (b: number): string => (b / 1024).toFixed(1);

function perDialog(m: MemoryResult, at: 'during' | 'steady'): { rss: number; heap: number; ext: number; handles: number } | undefined {
  const d = m[at];
  if (!d || m.held <= 0) return undefined;
  return {
    rss: (d.rss - m.before.rss) / m.held,
    heap: (d.heapUsed - m.before.heapUsed) / m.held,
    ext: (d.external - m.before.external) / m.held,
    handles: (d.handles - m.before.handles) / m.held,
  };
}

export function memoryLine(m: MemoryResult): string {
  const d = perDialog(m, 'during')!;
  const s = perDialog(m, 'steady');
  return (
    `memory per held dialog (${m.held} held, ${m.failed} failed): V8 heap ${kb(d.heap)} KiB with its INVITE transactions alive` +
    (s ? `, ${kb(s.heap)} KiB once they expired` : '') +
    `, ${d.handles.toFixed(1)} handles (relay sockets); heap after all hung up ${mb(m.after.heapUsed)} MB vs ${mb(m.before.heapUsed)} MB before` +
    ` (RSS delta ${kb(d.rss)} KiB: not meaningful, see below)`
  );
}

/** The search maximum if its confirmation held, else the highest passing rate below it. */
export function sustainedRate(results: StepResult[], confirm: StepResult | undefined, max: number): number {
  if (!confirm || confirm.pass) return max;
  return Math.max(0, ...results.filter((r) => r.pass && r.rate < confirm.rate).map((r) => r.rate));
}

/** Everything a run measured: saved as results.json in the run directory, rendered into RESULTS.md. */
export interface RunData {
  info: { lines: string[]; sipp: string };
  idle: number;
  gwIdlePct: number;
  options: SipOptions;
  results: StepResult[];
  confirm: StepResult | undefined;
  profileRun: StepResult | undefined;
  profile: ProfileSummary | undefined;
  memory: MemoryResult | undefined;
  found: { max: number; hi: number; stopReason: string };
}

export function render(o: RunData): string {
  // The text describes the run that produced the figures, not the options of this invocation.
  const O = o.options;
  const quick = O.quick;
  const gwIdlePct = o.gwIdlePct;
  const { results, confirm, profileRun, profile, memory, found } = o;
  const at300 = results.find((r) => r.rate === TARGET.cps);
  const bad = results.find((r) => r.rate === found.hi && !r.pass);
  const lines: string[] = [];
  lines.push('## SIP signalling (`npm run bench:sip`)', '');
  lines.push(`Run ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, ${quick ? 'quick' : 'full'} run, ${O.stepS} s per step.`, '');
  lines.push('**Machine**: ' + o.info.lines[0]!, ...o.info.lines.slice(1), '');
  lines.push(`Gateway CPU with no calls (timers, media worker threads): ${gwIdlePct.toFixed(1)}% of one core; "gw ms/call" below is (gw CPU - that) / rate.`, '');
  lines.push(`Other work on the machine when the bench started: ${o.idle.toFixed(0)}% busy (of ${cpus().length} cores); the "other" figure per step is what was busy outside the gateway and the two SIPps.`, '');
  lines.push('### Result', '');
  const sustained = sustainedRate(results, confirm, found.max);
  lines.push(
    `- **Highest rate with < 0.1% failed calls in its ${O.stepS} s step: ${found.max} calls/s**` +
      (found.hi ? ` (${found.hi} calls/s failed${bad ? `: ${bad.failPct.toFixed(2)}% failed, p99 setup ${bad.setup?.p99 ?? '-'} ms` : ''})` : '') +
      (found.stopReason ? `; ${found.stopReason}` : '') + '.',
  );
  if (confirm && !confirm.pass) {
    lines.push(`- **Not sustained**: repeated for ${confirm.durationS} s, ${confirm.rate} calls/s failed ${confirm.failPct.toFixed(2)}% (setup p50/p99 ${confirm.setup?.p50 ?? '-'}/${confirm.setup?.p99 ?? '-'} ms, other work on the box ${confirm.otherPct.toFixed(0)}%). The next rate below it that passed: **${sustained || 'none'}${sustained ? ' calls/s' : ''}** (one ${O.stepS} s step, not repeated).`);
  } else if (confirm) {
    lines.push(`- Confirmation at ${confirm.rate} calls/s for ${confirm.durationS} s: ${confirm.failed} of ${confirm.offered} failed (${confirm.failPct.toFixed(3)}%), setup p50/p99 ${confirm.setup?.p50 ?? '-'}/${confirm.setup?.p99 ?? '-'} ms: sustained.`);
  }
  const withLatency = results.filter((r) => r.pass && r.setup && r.setup.p99 < TARGET.p99Ms).sort((a, b) => b.rate - a.rate)[0];
  lines.push(`- Highest rate tried that also kept p99 setup under ${TARGET.p99Ms} ms: ${withLatency ? `${withLatency.rate} calls/s (p99 ${withLatency.setup!.p99} ms)` : 'none'}.`);
  if (at300) {
    const met = at300.pass && (at300.setup?.p99 ?? Infinity) < TARGET.p99Ms;
    lines.push(`- Target: ${TARGET.cps} calls/s with p99 setup < ${TARGET.p99Ms} ms: measured ${at300.failPct.toFixed(3)}% failed, p99 ${at300.setup?.p99 ?? '-'} ms -> **${met ? 'met' : 'not met'}**.`);
  }
  if (memory) lines.push(`- ${memoryLine(memory).replace(/^memory/, 'Memory')}.`);
  lines.push('', '### Steps', '');
  lines.push(markdownTable([...results, ...(confirm ? [confirm] : []), ...(profileRun && profileRun.label === 'profiled' ? [profileRun] : [])]), '');
  lines.push(
    'Columns: offered = rate x step length; attempted = calls SIPp started; failed = offered calls that did not complete (SIPp failures, calls never started, calls still open), "+N uas" = calls the SIPp UAS saw fail; setup = INVITE sent -> 200 received at the caller (SIPp -trace_rtt, 1 ms resolution); CPU as % of one core over the offered-load window, from /proc/<pid>/stat; gw RSS = peak VmRSS; box busy = all cores, 200% = both; gw loop p99 = gateway event-loop delay (perf_hooks); retrans = SIPp caller retransmissions; UDP drops gw = datagrams the kernel dropped at the gateway\'s SIP socket because its receive buffer was full (/proc/net/udp), "(SIPp n)" the same at the SIPps\' sockets.',
    '',
  );
  if (memory) {
    const d = perDialog(memory, 'during')!;
    const s = perDialog(memory, 'steady');
    lines.push('### Memory per held dialog', '');
    lines.push(
      `${memory.k} calls set up and held (${memory.held} held at the gateway, ${memory.failed} failed). Full GC (--expose-gc) before each reading; V8 heap and handles from the bench probe, RSS = VmRSS.`,
      '',
      '| reading | RSS MB | V8 heap used MB | external MB | live handles | SIP transactions |',
      '|---|---|---|---|---|---|',
      ...(['before', 'during', 'steady', 'after'] as const)
        .filter((k) => memory[k])
        .map((k) => {
          const x = memory[k]!;
          return `| ${k} | ${mb(x.rss)} | ${mb(x.heapUsed)} | ${mb(x.external)} | ${x.handles} | ${x.transactions} |`;
        }),
      '',
      `Per held dialog: **V8 heap ${kb(d.heap)} KiB**, external ${kb(d.ext)} KiB, ${d.handles.toFixed(1)} handles (4 UDP relay sockets per call), RSS ${kb(d.rss)} KiB, measured 1 s after the last call was set up, so the INVITE transactions (RFC 6026 Accepted / Timer M, 32 s) are still alive. The heap figure is the dependable one: RSS moves with V8 growing and returning whole pages (and with the registration and warm-up garbage of the baseline), which at this scale swamps ~1000 dialogs; socket buffers are kernel memory and in neither.` +
        (s ? ` After they expired ("steady"): RSS ${kb(s.rss)} KiB, V8 heap ${kb(s.heap)} KiB per dialog.` : ''),
      '',
    );
  }
  if (profile && profileRun) {
    lines.push(`### Where the gateway's CPU goes (V8 CPU profile at ${profileRun.rate} calls/s)`, '');
    lines.push(
      `Sampled for ${(profile.totalMs / 1000).toFixed(1)} s of the profiled step (1 ms interval, the sampler of \`node --cpu-prof\`, started and stopped through the inspector so only the step is in it); the main thread was busy ${profile.busyPct.toFixed(0)}% of it. Only the main (signalling) thread is profiled: the media worker threads' CPU is in the gw CPU column, not here.`,
      '',
      '| self time | function  place |', '|---|---|',
      ...profile.functions.map((f) => `| ${f.pct.toFixed(1)}% | \`${f.name}\` |`),
      '',
      'By area:',
      '',
      '| self time | area |', '|---|---|',
      ...profile.areas.map((f) => `| ${f.pct.toFixed(1)}% | ${f.name} |`),
      '',
    );
  }
  lines.push('### What limited the maximum', '');
  if (bad) {
    // CPU per call over the passing steps, weighted by their calls (so the busy steps count most).
    const passing = results.filter((r) => r.pass && r.rate > 0);
    const calls = passing.reduce((a, r) => a + r.offered, 0);
    const msPerCall = calls ? passing.reduce((a, r) => a + r.gwMsPerCall * r.offered, 0) / calls : NaN;
    lines.push(
      `At ${bad.rate} calls/s (first failing rate): gateway ${bad.gwCpuPct.toFixed(0)}% of one core, event-loop p99 delay ${bad.eldP99Ms.toFixed(0)} ms (max ${bad.eldMaxMs.toFixed(0)} ms), SIPp ${bad.callerCpuPct.toFixed(0)}% + ${bad.agentCpuPct.toFixed(0)}%, machine ${bad.machineBusyPct.toFixed(0)}% of 200% (other work ${bad.otherPct.toFixed(0)}%), ${bad.retransmissions} retransmissions, ${bad.gwUdpDrops} datagrams dropped at the gateway's SIP socket (receive buffer full), setup p99 ${bad.setup?.p99 ?? '-'} ms${bad.leftover ? `, ${bad.leftover} calls stuck open afterwards` : ''}.` +
        (bad.errors.length ? ` SIPp errors: ${bad.errors.join('; ')} (message 1 = waiting for the answer to the INVITE, 8 = for the 200 to the BYE).` : ''),
      '',
      `- CPU per call: the gateway spent ${msPerCall.toFixed(1)} ms of CPU per call over the passing steps (weighted by calls; all its threads, its no-call CPU taken off; 11 SIP messages pass through it per call, and 4 relay sockets are opened and closed), so a core's worth of CPU carries ~${Math.round(1000 / msPerCall)} calls/s; SIP signalling itself runs on the single main thread.`,
      bad.machineBusyPct > 180
        ? `- The machine was saturated: the gateway, both SIPps${bad.otherPct > 20 ? ' and other work on the box' : ''} together used ${bad.machineBusyPct.toFixed(0)}% of 200%, so the gateway's main thread did not get a full core while it needed one.`
        : bad.gwCpuPct > 85
          ? "- The gateway's main thread was saturated (signalling runs on one event loop)."
          : '- Neither the gateway nor the machine was CPU-saturated over the whole step: the failures came from bursts (see event-loop max delay and drops).',
      `- Once the event loop lags, the SIP socket's receive buffer (kernel default, ~208 KiB) overflows (${bad.gwUdpDrops} drops), SIPp retransmits (INVITE after 0.5 s, BYE likewise), the retransmissions add load, and calls time out; a dialog whose BYE is lost with all its retransmissions is ended by the media timeout or the session timer (docs/operations.md).`,
      ...(profile ? [`- Main thread at ${profileRun?.rate ?? '?'} calls/s, by area: ${profile.areas.slice(0, 6).map((a) => `${a.name} ${a.pct.toFixed(0)}%`).join(', ')}.`] : []),
      '',
    );
  } else {
    lines.push(`No failing rate within the run (${found.stopReason || 'see steps'}).`, '');
  }
  lines.push('{{NOTES}}', '');
  lines.push('### Method', '');
  lines.push(
    `- Gateway: server/src/main.ts as its own process through tsx, as \`npm start\` runs it (\`node --expose-gc --import tsx server/bench/lib/gateway-entry.ts\`, which installs the bench probe for heap, event-loop delay and CPU profile over IPC, then imports main.ts; the gateway's code and HTTP surface are unchanged), LOG_LEVEL=warn, SIP over UDP on 127.0.0.1, RTP ports 10000-19999 (each call still anchors media: 2 RTP/RTCP socket pairs), MD5 digest, ${O.agents} agent ids in AGENTS.`,
    `- SIPp ${o.info.sipp}, UDP, one socket each: \`e2e/sipp/bench-caller.xml\` (UAC: INVITE with SDP offer -> 200 -> ACK, hold ${O.holdMs} ms, BYE -> 200; no RTP) and one \`e2e/sipp/bench-agent.xml\` (UAS: 200 with SDP at once, ACK, BYE -> 200). All ${O.agents} agent ids are registered (digest, by the bench's UDP client \`server/bench/lib/register.ts\`) with the UAS as Contact; the caller takes the callee per call from an injection file (\`-inf\`, SEQUENTIAL), so an id is reused only every ${O.agents} calls and never meets the gateway's 486-when-busy rule.`,
    `- Search (RFC 7502 4.1-4.2 style): fixed-rate steps of ${O.stepS} s (\`-r R -m R*${O.stepS}\`), ramp ${O.rates.join(', ')} calls/s until the first step with >= 0.1% failed calls, then a binary search between the last passing and the first failing rate to within ${O.resolution} calls/s (or 5%), then a ${O.stepS * 2} s confirmation at the maximum and a profiled step. A warm-up step precedes everything. After each step the bench waits (up to 36 s: RFC 3261 Timer F/H) until the gateway holds no calls; if some never end ("stuck": a BYE lost with all its retransmissions, and the gateway has no session timer to notice), the next step gets a freshly started, re-registered and warmed-up gateway, since those agents would answer 486 for ever.`,
    '- The caller scenario matches responses to their transaction (SIPp start_txn/response_txn): without it SIPp takes a retransmitted 200 for the INVITE as the answer to its BYE, stops retransmitting the BYE, counts the call successful and leaves it open in the gateway.',
    '- A call is failed if it was offered and did not complete all its messages: SIPp failures (unexpected message, 10 s receive timeout, max retransmissions), calls SIPp never started, calls still open. Setup time: INVITE sent -> 200 received, per call from SIPp `-trace_rtt`, percentiles computed by the bench.',
    '- Caveats: SIPp caller, SIPp UAS and the gateway share the same 2 cores, so every figure includes the load generator\'s competition (reported per step); the machine is shared with other work (the "other" column). The gateway runs TypeScript through tsx (esbuild transform on load only; run time is plain V8).',
    '',
  );
  return lines.join('\n');
}
