/** Tables and the RESULTS.md section of bench:load. */
import type { CallPlan } from './call-audio.js';
import type { ProfileSummary } from './cpuprofile.js';
import type { LoadStep } from './load-run.js';
import type { DtmfTransport } from '../../devtools/sipp/load-scenario.js';
import { pct } from './report.js';

export interface AcceptResult {
  rate: number;
  seconds: number;
  calls: number;
  ok: number;
  failed: number;
  exit: number | null;
  setup: number[];
  held: number;
  eldP99Ms: number;
}

export interface RelayComparison {
  sessions: number;
  seconds: number;
  /** tonegate at its maximum step: CPU ms per 1000 RTP packets received, and per 1000 in + out. */
  tonegatePer1000In: number;
  tonegatePer1000InOut: number;
  tonegatePps: { in: number; out: number };
  rtpengine: { version: string; packetsIn: number; pps: number; delivered: number; cpuPct: number; per1000In: number };
  ratio: number;
}

const HEAD = [
  'transport', 'calls/s', 'calls', 'held', 'paid', 'SIPp failed', 'digits lost / extra', 'field errors', 'setup p50 / p99 ms',
  'digit->event from end p50 / p99 ms', 'from first packet p50 / p99 ms', 'gw CPU %', 'gw RSS MB', 'loop lag p99 / max ms',
  'RTP in / out pkt/s', 'RTP loss %', 'probe jitter p50 / max ms (loss)', 'CPU ms / 1000 pkts in', 'SIPp / bench / provider CPU %', 'box busy % (of 200)', 'gw main thread waiting for a core %', 'pass',
];

const row = (r: LoadStep): string[] => [
  r.transport, String(r.rate), String(r.calls), String(r.maxCalls), String(r.paid), String(r.sippFailed),
  `${r.digitsLost} / ${r.digitsExtra}`, String(r.fieldErrors), `${r.setup.p50} / ${r.setup.p99}`,
  `${r.digitFromEnd.p50} / ${r.digitFromEnd.p99}`, `${r.digitFromFirst.p50} / ${r.digitFromFirst.p99}`,
  String(r.gwCpuPct), String(r.gwRssPeakMb), `${r.eld.p99Ms} / ${r.eld.maxMs}`, `${r.rtp.inPps} / ${r.rtp.outPps}`, String(r.rtp.lossPct), `${r.probe.jitterMs.p50} / ${r.probe.jitterMs.max} (${r.probe.lost}/${r.probe.packets})`,
  String(r.cpuMsPer1000In), `${r.sippCpuPct} / ${r.harnessCpuPct.bench ?? '-'} / ${r.harnessCpuPct.provider ?? '-'}`, String(r.machineBusyPct), String(r.mainRunqWaitPct), r.pass ? 'yes' : '**no**',
];

export function loadTable(steps: LoadStep[]): { console: string; markdown: string } {
  const all = [HEAD, ...steps.map(row)];
  const w = HEAD.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  return {
    console: all.map((r) => r.map((c, i) => c.padStart(w[i]!)).join('  ')).join('\n'),
    markdown: [`| ${HEAD.join(' | ')} |`, `|${HEAD.map(() => '---').join('|')}|`, ...steps.map((r) => `| ${row(r).join(' | ')} |`)].join('\n'),
  };
}

export function acceptRow(a: AcceptResult): string[] {
  return [
    `accept: ${a.rate} calls/s for ${a.seconds} s`, `${a.ok}/${a.calls} answered and hung up cleanly`, `${a.failed} failed (SIPp exit ${a.exit})`,
    `setup p50/p99/max ${pct(a.setup, 50)}/${pct(a.setup, 99)}/${a.setup.length ? Math.max(...a.setup) : '-'} ms`, `held at most ${a.held}`, `loop lag p99 ${a.eldP99Ms} ms`,
  ];
}

export function relayRows(c: RelayComparison): string[] {
  return [
    `side by side at ${c.sessions} sessions: tonegate ${c.tonegatePer1000In} ms CPU per 1000 packets received (${c.tonegatePer1000InOut.toFixed(1)} per 1000 in + out; ${c.tonegatePps.in} in / ${c.tonegatePps.out} out pkt/s)`,
    `rtpengine ${c.rtpengine.version}: ${c.rtpengine.per1000In.toFixed(1)} ms per 1000 packets received (${c.rtpengine.pps} pkt/s in, ${c.rtpengine.cpuPct} % CPU, delivered ${(c.rtpengine.delivered * 100).toFixed(2)} %)`,
    `ratio tonegate / rtpengine: ${c.ratio.toFixed(2)}x (target within 2x)`,
  ];
}

const areaList = (p: ProfileSummary, n: number): string => p.areas.slice(0, n).map((a) => `${a.name} ${a.pct.toFixed(1)} %`).join(', ');
const fnList = (p: ProfileSummary, n: number): string => p.functions.filter((f) => f.name !== '(idle)').slice(0, n).map((f) => `\`${f.name.replace(/\s+/g, ' ')}\` ${f.pct.toFixed(1)} %`).join(', ');

export interface SectionInput {
  info: Record<string, string | number>;
  O: { stepS: number; rates: number[]; resolution: number; acceptRate: number; acceptS: number };
  steps: LoadStep[];
  max: Partial<Record<DtmfTransport, LoadStep>>;
  acc: AcceptResult | undefined;
  profile: { main: ProfileSummary; workers: ProfileSummary[]; step: LoadStep } | undefined;
  relay: RelayComparison | undefined;
  plan: CallPlan;
}

export function section(s: SectionInput): string {
  const { info, O, steps, max, acc, profile, relay, plan } = s;
  const digits = plan.keys.filter((k) => /\d/.test(k.key)).length;
  const lines = [
    '<!-- bench:load -->',
    '## Load: payments under SIPp (`npm run bench:load`)',
    '',
    `Run ${new Date().toISOString()} at commit ${info.commit} on ${info.cpu}, ${info.cores} cores, ${info.memGiB} GiB, Node ${info.node}, ${info.sipp}, load average ${info.load} at start.`,
    '',
    '**Method.**',
    `- The gateway runs as its own process (\`npm start\`'s code through the bench probe, LOG_LEVEL warn, memory store) and calls the demo provider over HTTP (\`PAYMENT_API_URL\`); the demo provider runs as a process of its own (server/src/demo/main.ts), standing in for the bank, so its work is not counted as the gateway's. SIPp, the bench process, the provider and the gateway share the machine's ${info.cores} cores.`,
    `- Each SIPp call is a transfer-mode payment (\`INVITE sip:pay@gateway\` with the X-Pay-* headers, a unique order reference). After the ACK the customer plays a whole call's audio, ${plan.lengthMs / 1000} s of continuous 20 ms PCMU: the greeting barged in after 1.5 s, card \`4111111111111111#\`, expiry, CVV, 3 s of silence, the OTP (${digits} digits a call, 80 ms on / 80 ms off), then silence while the payment runs. **RFC 4733**: one pcap per call played by SIPp's \`play_pcap_audio\` (events on PT 101 shaped like SIPp's own dtmf_2833 captures: M bit, 20 ms updates, the end packet three times). **In-band**: a µ-law file of the same call with DTMF tone pairs at -10 dBm0 per tone, streamed by SIPp's \`rtp_stream\`. The customer waits for the gateway's BYE after the outcome prompt.`,
    '- Every call is judged: the session must end `paid`; per field the `digit.entered` events must equal the keys sent (lost / extra), and no field may be asked twice or refused (field errors). A step passes with zero failed SIPp calls, every payment paid and zero digit errors.',
    '- digit -> event: SIPp logs when each call\'s audio started (gettimeofday in the scenario); the plan gives each key\'s offset; the n-th key of a field pairs with the n-th `digit.entered` of that field on the supervisor WebSocket. "From end" counts from the key\'s end (RFC 4733 end packet, end of the tone), "from first" from its first packet. The RFC 4733 receiver reports a key on the first packet of its event (RFC 4733 2.5.1.2), the in-band detector once the tone has lasted its minimum (so "from end" is negative for both).',
    `- Rate search: ${O.stepS} s of arrivals per step at ${O.rates.join(', ')} calls/s until a step fails, then halving between the last passing and the first failing rate to ${O.resolution} calls/s (or 10 %). After each step the bench waits until the gateway holds no call. "held" is the most calls the gateway held at once (\`/healthz\`, sampled every second; the probe call below is one of them). Gateway CPU is % of one core over the step (/proc); loop lag is perf_hooks event-loop delay over the step beyond its 10 ms sampling interval; RTP figures from \`/metrics\` (receive loss per RFC 3550 A.3), read at the start and end of a step only. **Probe jitter**: a Node customer places one extra payment call during each step, keys nothing and listens to the gateway's prompt stream: RFC 3550 A.8 interarrival jitter sampled every second (p50 / max over the step) and A.3 loss (lost / received); the lowest step gives the baseline, so the added jitter is a step's figure minus it (an upper bound: the bench process's own event-loop delay is inside). The SIPp, bench-process (SIPp log reading, the supervisor connection) and demo-provider CPU is listed because they share the 2 cores with the gateway; "gw main thread waiting for a core" is the share of the step the gateway's event-loop thread was runnable but not running (/proc/<pid>/task/<pid>/schedstat): CPU starvation, not work.`,
    '',
    loadTable(steps).markdown,
    '',
    '**Maxima** (highest passing step per transport):',
    '',
  ];
  for (const [t, r] of Object.entries(max) as [DtmfTransport, LoadStep][]) {
    lines.push(`- ${t}: **${r.rate} new payment calls/s, ${r.maxCalls} concurrent payment calls**, all ${r.calls} paid, 0 digit errors; digit -> event p99 ${r.digitFromEnd.p99} ms from the key's end (${r.digitFromFirst.p99} ms from its first packet); loop lag p99 ${r.eld.p99Ms} ms; gateway ${r.gwCpuPct} % of a core, ${r.gwRssPeakMb} MB.`);
  }
  for (const t of ['rfc4733', 'inband'] as const) if (!max[t] && steps.some((x) => x.transport === t)) lines.push(`- ${t}: no step passed.`);
  const firstFail = (t: DtmfTransport) => steps.find((x) => x.transport === t && !x.pass && x.rate > (max[t]?.rate ?? 0));
  for (const t of ['rfc4733', 'inband'] as const) {
    const f = firstFail(t);
    if (f) lines.push(`- ${t} first failing step: ${f.rate} calls/s (${f.maxCalls} held): paid ${f.paid}/${f.calls}, SIPp failed ${f.sippFailed}, digits lost ${f.digitsLost} / extra ${f.digitsExtra}, field errors ${f.fieldErrors}${Object.keys(f.notPaid).length ? `, not paid: ${Object.entries(f.notPaid).map(([k, v]) => `${k} ${v}`).join('; ')}` : ''}; gateway ${f.gwCpuPct} % CPU, loop lag p99 ${f.eld.p99Ms} ms, box ${f.machineBusyPct} % of 200.`);
  }
  const best = max.rfc4733;
  lines.push('', '**Targets** (whole product, this machine):', '');
  lines.push(`- 500 concurrent payment calls with zero digit errors and zero failed payments: ${best ? `${best.maxCalls} reached (RFC 4733)${max.inband ? `, ${max.inband.maxCalls} (in-band)` : ''}` : 'none'} -> **${best && best.maxCalls >= 500 ? 'met' : 'not met'}**.`);
  lines.push(`- digit -> event p99 < 50 ms at that load: ${best ? `${best.digitFromEnd.p99} ms from the key's end, ${best.digitFromFirst.p99} ms from its first packet` : '-'}.`);
  lines.push(`- event-loop lag p99 < 20 ms: ${best ? `${best.eld.p99Ms} ms` : '-'} -> ${best && best.eld.p99Ms < 20 ? 'met' : 'not met'}.`);
  if (acc) {
    const ok = acc.failed === 0 && acc.ok === acc.calls;
    lines.push(`- 100 new payment calls/s accepted: ${acc.rate} calls/s for ${acc.seconds} s (each customer hangs up 2 s into the greeting): ${acc.ok}/${acc.calls} answered and ended cleanly, ${acc.failed} failed; setup p50 ${pct(acc.setup, 50)} ms, p99 ${pct(acc.setup, 99)} ms, max ${acc.setup.length ? Math.max(...acc.setup) : '-'} ms; at most ${acc.held} calls held; loop lag p99 ${acc.eldP99Ms} ms -> **${ok ? 'met' : 'not met'}**.`);
  }
  if (relay) {
    lines.push(`- CPU per packet within 2x of rtpengine: ${relayRows(relay)[2]} -> **${relay.ratio <= 2 ? 'met' : 'not met'}**.`);
    lines.push('', '**Side by side with rtpengine** (the same run):', '', ...relayRows(relay).map((l) => `- ${l}`), '',
      `tonegate's figure is its whole process at the maximum RFC 4733 step (CPU time / RTP packets received): SIP, capture state machines, the event bus and WebSocket, HTTP to the provider, prompt playout (the 50 packets/s it sends per call are generated, not relayed), DTMF detection and masking. rtpengine only forwards: ${relay.sessions} sessions of 20 ms PCMU both ways (100 packets/s received and 100 forwarded per session, so the same packets/s in and out as tonegate's calls at their peak: 50 in from the customer, 50 prompt packets out), sent by a Node generator (lib/rtp-blaster.ts) on the same machine.`);
  }
  if (profile) {
    lines.push('', `**Profile** (\`--cpu-prof\`, every thread, the ${profile.step.label} step again: ${profile.step.paid}/${profile.step.calls} paid):`, '');
    lines.push(`- main thread, ${profile.main.busyPct.toFixed(0)} % busy; by area: ${areaList(profile.main, 8)}; top functions: ${fnList(profile.main, 6)}.`);
    profile.workers.forEach((w, i) => lines.push(`- thread ${i + 1}, ${w.busyPct.toFixed(0)} % busy; by area: ${areaList(w, 5)}; top functions: ${fnList(w, 5)}.`));
  }
  lines.push('<!-- /bench:load -->');
  return lines.join('\n');
}
