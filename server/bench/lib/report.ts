/** Formatting of the SIP benchmark's figures: console table and the RESULTS.md section. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

export interface StepResult {
  label: string;
  rate: number;
  durationS: number;
  offered: number;
  attempted: number;
  successful: number;
  /** Offered calls that did not complete successfully (RFC 7502 4: not attempted counts too). */
  failed: number;
  failPct: number;
  agentFailed: number;
  /** Calls per second SIPp actually started (from its 1 s statistics). */
  achievedCps: number;
  setup: { n: number; p50: number; p90: number; p99: number; max: number } | undefined;
  gwCpuPct: number;
  /** Gateway CPU time per call (ms), its no-call CPU taken off. */
  gwMsPerCall: number;
  gwRssMb: number;
  callerCpuPct: number;
  agentCpuPct: number;
  machineBusyPct: number;
  /** Machine busy time not spent in the gateway or the two SIPps (other work on the box). */
  otherPct: number;
  maxCalls: number;
  maxTransactions: number;
  eldP99Ms: number;
  eldMaxMs: number;
  retransmissions: number;
  /** Datagrams the kernel dropped at the gateway's SIP socket (receive buffer full), and at SIPp's. */
  gwUdpDrops: number;
  sippUdpDrops: number;
  sippWatchdog: number;
  /** Calls the gateway still held when the step had settled (lost BYEs); the next step got a fresh gateway. */
  leftover: number;
  warnings: number;
  /** The message of the last gateway log line at warn or above during the step. */
  lastWarning: string;
  errors: string[];
  pass: boolean;
}

export const pct = (p: number[], q: number): number => {
  if (p.length === 0) return NaN;
  const s = [...p].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((q / 100) * s.length) - 1))]!;
};

const f0 = (n: number): string => (Number.isFinite(n) ? n.toFixed(0) : '-');
const f1 = (n: number): string => (Number.isFinite(n) ? n.toFixed(1) : '-');
const fp = (n: number): string => (n === 0 ? '0' : n < 0.01 ? n.toFixed(3) : n.toFixed(2));

export const TABLE_HEAD = [
  'step', 'cps', 'offered', 'attempted', 'failed', 'fail %', 'setup p50', 'p99', 'max',
  'gw CPU %', 'gw ms/call', 'gw RSS MB', 'SIPp CPU % (uac+uas)', 'box busy %', 'gw loop p99', 'max calls', 'retrans', 'UDP drops gw', 'ok',
];

export function tableRow(r: StepResult): string[] {
  return [
    r.label,
    String(r.rate),
    String(r.offered),
    String(r.attempted),
    String(r.failed) + (r.agentFailed ? ` (+${r.agentFailed} uas)` : ''),
    fp(r.failPct),
    r.setup ? `${f0(r.setup.p50)} ms` : '-',
    r.setup ? `${f0(r.setup.p99)} ms` : '-',
    r.setup ? `${f0(r.setup.max)} ms` : '-',
    f0(r.gwCpuPct),
    f1(r.gwMsPerCall),
    f0(r.gwRssMb),
    `${f0(r.callerCpuPct)}+${f0(r.agentCpuPct)}`,
    `${f0(r.machineBusyPct)} (other ${f0(r.otherPct)})`,
    `${f1(r.eldP99Ms)} ms`,
    String(r.maxCalls) + (r.leftover ? ` (${r.leftover} stuck)` : ''),
    String(r.retransmissions),
    String(r.gwUdpDrops) + (r.sippUdpDrops ? ` (SIPp ${r.sippUdpDrops})` : ''),
    r.pass ? 'yes' : 'NO',
  ];
}

export function consoleTable(rows: StepResult[]): string {
  const all = [TABLE_HEAD, ...rows.map(tableRow)];
  const w = TABLE_HEAD.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  return all.map((r) => r.map((c, i) => c.padStart(w[i]!)).join('  ')).join('\n');
}

export function markdownTable(rows: StepResult[]): string {
  return [
    `| ${TABLE_HEAD.join(' | ')} |`,
    `|${TABLE_HEAD.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${tableRow(r).join(' | ')} |`),
  ].join('\n');
}

const START = '<!-- bench:sip -->';
const END = '<!-- /bench:sip -->';
const NOTES_START = '<!-- bench:sip:notes -->';
const NOTES_END = '<!-- /bench:sip:notes -->';

/**
 * Replaces the SIP section of RESULTS.md (between its markers), keeping other sections and any
 * hand-written notes between the notes markers inside the SIP section.
 */
export function writeSection(file: string, body: string): void {
  let text = existsSync(file)
    ? readFileSync(file, 'utf8')
    : '# tonegate benchmark results\n\nEach benchmark writes its own section between its markers; the figures come from the last run on the machine described in the section.\n';
  const s = text.indexOf(START);
  const e = text.indexOf(END);
  let notes = `${NOTES_START}\n${NOTES_END}`;
  if (s >= 0 && e > s) {
    const old = text.slice(s, e);
    const ns = old.indexOf(NOTES_START);
    const ne = old.indexOf(NOTES_END);
    if (ns >= 0 && ne > ns) notes = old.slice(ns, ne + NOTES_END.length);
  }
  const section = `${START}\n${body.replace('{{NOTES}}', notes)}\n${END}`;
  if (s >= 0 && e > s) text = text.slice(0, s) + section + text.slice(e + END.length);
  else text = `${text.trimEnd()}\n\n${section}\n`;
  writeFileSync(file, text);
}

/**
 * Replaces the text between `start` and `end` markers in RESULTS.md (`body` includes both markers),
 * or appends it when the file has no such section yet. For benchmarks without hand-written notes.
 */
export function replaceMarkedSection(file: string, start: string, end: string, body: string): void {
  let text = existsSync(file) ? readFileSync(file, 'utf8') : '# tonegate benchmark results\n';
  const s = text.indexOf(start);
  const e = text.indexOf(end);
  text = s >= 0 && e > s ? text.slice(0, s) + body + text.slice(e + end.length) : `${text.trimEnd()}\n\n${body}\n`;
  writeFileSync(file, text);
}
