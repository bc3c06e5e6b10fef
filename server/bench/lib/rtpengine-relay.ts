/**
 * rtpengine as a relay under measurement (rtpengine.ts starts it): relay sessions set up over the ng
 * protocol, RTP blasted through them, and its CPU per 1000 relayed packets (`relayCpu`, the entry
 * point of bench:rtpengine and bench:load; rtpengine.ts explains the figure and the gotchas).
 */
import { NgClient, dig, type BDict } from './ng.js';
import { cpuSeconds, machineCpu } from './procs.js';
import { sleep } from '../../devtools/procs.js';
import { RtpBlaster, type BlasterCounts } from './rtp-blaster.js';
import { HOST, startRtpengine, type RtpengineOptions } from './rtpengine.js';

/** rtpengine's address and port for one side, from the SDP it returned. */
export function relayAddress(sdp: string): { address: string; port: number } {
  const port = /^m=audio (\d+) /m.exec(sdp)?.[1];
  const address = /^c=IN IP4 (\S+)/m.exec(sdp)?.[1];
  if (!port || !address) throw new Error(`rtpengine returned an SDP without c= or m=audio: ${JSON.stringify(sdp)}`);
  return { address, port: Number(port) };
}

export function pcmuSdp(port: number, sessionId: number): string {
  return [
    'v=0',
    `o=- ${sessionId} 1 IN IP4 ${HOST}`,
    's=-',
    `c=IN IP4 ${HOST}`,
    't=0 0',
    `m=audio ${port} RTP/AVP 0`,
    'a=rtpmap:0 PCMU/8000',
    'a=ptime:20',
    'a=sendrecv',
    '',
  ].join('\r\n');
}

export interface RelaySession {
  callId: string;
  fromTag: string;
  toTag: string;
  /** Where endpoint A must send (the relay's port facing A) and where B must send. */
  aSendsTo: number;
  bSendsTo: number;
}

/**
 * Creates one relay session per blaster session: `offer` with A's SDP, `answer` with B's SDP,
 * and points the blaster's endpoints at the ports rtpengine allocated.
 */
export async function createRelaySessions(ng: NgClient, blaster: RtpBlaster, tag = 'bench'): Promise<RelaySession[]> {
  const out: RelaySession[] = [];
  for (let i = 0; i < blaster.sessions; i++) {
    const { aPort, bPort } = blaster.endpoints(i);
    const callId = `${tag}-${process.pid}-${i}`;
    const fromTag = `a${i}`;
    const toTag = `b${i}`;
    const common: BDict = { 'call-id': callId, 'from-tag': fromTag, ICE: 'remove' };
    const offer = await ng.offer({ ...common, sdp: pcmuSdp(aPort, i) });
    const toB = relayAddress(String(offer.sdp ?? ''));
    const answer = await ng.answer({ ...common, 'to-tag': toTag, sdp: pcmuSdp(bPort, i) });
    const toA = relayAddress(String(answer.sdp ?? ''));
    if (toA.address !== HOST || toB.address !== HOST) throw new Error(`rtpengine offered ${toA.address}/${toB.address}, expected ${HOST}`);
    const s = { callId, fromTag, toTag, aSendsTo: toA.port, bSendsTo: toB.port };
    await blaster.setTargets(i, s);
    out.push(s);
  }
  return out;
}

/** Packets rtpengine has relayed so far (its own counter, both directions), and its errors. */
export async function relayedPackets(ng: NgClient): Promise<{ packets: number; errors: number } | undefined> {
  const st = await ng.statistics();
  const total = dig(st, 'statistics', 'totalstatistics');
  const packets = dig(total, 'relayedpackets');
  const errors = dig(total, 'relayedpacketerrors');
  if (typeof packets !== 'number') return undefined;
  return { packets, errors: typeof errors === 'number' ? errors : 0 };
}

export interface RelayCpuResult {
  sessions: number;
  /** Length of the measuring window (wall clock, s). */
  seconds: number;
  /** Packets the relay received in the window: rtpengine's own counter (generator's count if absent). */
  packetsIn: number;
  /** Packets that arrived at the endpoints in the window (rtpengine has no "sent" counter). */
  packetsOut: number;
  /** Packets that arrived at the endpoints / packets the generator sent, over the whole run (warm-up included). */
  delivered: number;
  /** rtpengine's CPU time (user + system, all threads) in the window. */
  cpuSeconds: number;
  /** cpuSeconds * 1000 / (packetsIn / 1000): ms of relay CPU per 1000 packets received (each forwarded once). */
  cpuPer1000Packets: number;
  /** rtpengine version, e.g. "10.5.3.5-1+deb12u1". */
  version: string;
  /** Relay CPU as % of one core. */
  cpuPct: number;
  /** Packets the generator sent in the window (both directions) and per second. */
  generatorSent: number;
  packetsPerSecond: number;
  /** Where packetsIn came from. */
  packetsInSource: 'rtpengine statistics' | 'generator';
  /** rtpengine's relayedpacketerrors in the window. */
  relayErrors: number;
  /** rtpengine's CPU with no calls, % of one core, over 1 s before the calls are set up. */
  idleCpuPct: number;
  /** CPU of the generating process (this one) in the window, as % of one core. */
  generatorCpuPct: number;
  /** The whole machine's busy share in the window (all cores, everything running on it), %. */
  machineBusyPct: number;
  generator: BlasterCounts;
  command: string[];
  /** Cross-check findings (e.g. the relay counted noticeably fewer packets than were sent). */
  warnings: string[];
}

export interface RelayCpuOptions {
  sessions: number;
  seconds: number;
  /** Media runs this long before the window opens (default 2 s). */
  warmupSeconds?: number;
  rtpengine?: RtpengineOptions;
  log?: (s: string) => void;
}

/**
 * Starts rtpengine, sets up `sessions` relayed calls, sends 20 ms PCMU both ways through each for
 * `warmupSeconds` + `seconds`, measures over the last `seconds`, deletes the calls and stops
 * rtpengine. Self-contained: nothing is left running.
 */
export async function relayCpu(opts: RelayCpuOptions): Promise<RelayCpuResult> {
  const { sessions, seconds } = opts;
  if (!(sessions > 0) || !(seconds > 0)) throw new Error('relayCpu: sessions and seconds must be > 0');
  const log = opts.log ?? ((s: string) => console.error(s));
  const warmup = opts.warmupSeconds ?? 2;
  const portMin = opts.rtpengine?.portMin ?? 44000;
  const portMax = opts.rtpengine?.portMax ?? portMin + Math.max(3999, sessions * 8);
  const rtpe = await startRtpengine({ ...opts.rtpengine, portMin, portMax, log });
  let blaster: RtpBlaster | undefined;
  let calls: RelaySession[] = [];
  try {
    const i0 = cpuSeconds(rtpe.pid) ?? 0;
    const iw = performance.now();
    await sleep(1000);
    const idleCpuPct = (((cpuSeconds(rtpe.pid) ?? 0) - i0) / ((performance.now() - iw) / 1000)) * 100;
    blaster = await RtpBlaster.create(sessions);
    calls = await createRelaySessions(rtpe.ng, blaster);
    blaster.start();
    await sleep(warmup * 1000);

    const g0 = blaster.snapshot();
    const r0 = await relayedPackets(rtpe.ng);
    const c0 = cpuSeconds(rtpe.pid);
    const p0 = process.cpuUsage();
    const m0 = machineCpu();
    const w0 = performance.now();
    await sleep(seconds * 1000);
    const c1 = cpuSeconds(rtpe.pid);
    const p1 = process.cpuUsage(p0);
    const m1 = machineCpu();
    const wall = (performance.now() - w0) / 1000;
    const g1 = blaster.snapshot();
    const r1 = await relayedPackets(rtpe.ng);
    blaster.stop();
    await sleep(300); // let what is in flight arrive
    const gEnd = blaster.snapshot();

    if (c0 === undefined || c1 === undefined) throw new Error(`rtpengine (pid ${rtpe.pid}) went away during the run: ${rtpe.stderrTail()}`);
    const diff = (k: keyof BlasterCounts): number => g1[k] - g0[k];
    const sent = diff('sentAtoB') + diff('sentBtoA');
    const received = diff('recvAtA') + diff('recvAtB');
    const warnings: string[] = [];
    let packetsIn = sent;
    let source: RelayCpuResult['packetsInSource'] = 'generator';
    let relayErrors = 0;
    if (r0 && r1) {
      packetsIn = r1.packets - r0.packets;
      relayErrors = r1.errors - r0.errors;
      source = 'rtpengine statistics';
      // The two snapshots are not taken at the same instant: allow 2 % for packets in flight.
      if (Math.abs(packetsIn - sent) > 0.02 * sent + 10) {
        warnings.push(`rtpengine counted ${packetsIn} packets relayed, the generator sent ${sent} (received ${received})`);
      }
    } else warnings.push('rtpengine statistics gave no relayedpackets counter: packetsIn is the generator\'s sent count');
    if (diff('foreign') > 0) warnings.push(`${diff('foreign')} datagrams at the endpoints were not the peer's RTP`);
    if (diff('skippedPeriods') > 0) warnings.push(`the generator fell behind and skipped ${diff('skippedPeriods')} 20 ms periods`);
    const expected = sessions * 100 * wall;
    if (sent < 0.95 * expected) warnings.push(`the generator sent ${(sent / wall).toFixed(0)} packets/s, below the ${(expected / wall).toFixed(0)} asked for`);
    const cpu = c1 - c0;
    return {
      sessions,
      seconds: wall,
      packetsIn,
      packetsOut: received,
      // Over the whole run, not the window: a generator that falls behind sends in bursts, and
      // a window boundary inside a burst would count its packets as sent in one window but
      // received in the next.
      delivered: gEnd.sentAtoB + gEnd.sentBtoA > 0 ? (gEnd.recvAtA + gEnd.recvAtB) / (gEnd.sentAtoB + gEnd.sentBtoA) : 0,
      cpuSeconds: cpu,
      cpuPer1000Packets: packetsIn > 0 ? (cpu * 1000) / (packetsIn / 1000) : NaN,
      version: rtpe.version,
      cpuPct: (cpu / wall) * 100,
      generatorSent: sent,
      packetsPerSecond: packetsIn / wall,
      packetsInSource: source,
      relayErrors,
      idleCpuPct,
      generatorCpuPct: ((p1.user + p1.system) / 1e6 / wall) * 100,
      machineBusyPct: m1.total > m0.total ? ((m1.busy - m0.busy) / (m1.total - m0.total)) * 100 : NaN,
      generator: { sentAtoB: diff('sentAtoB'), sentBtoA: diff('sentBtoA'), recvAtB: diff('recvAtB'), recvAtA: diff('recvAtA'), foreign: diff('foreign'), skippedPeriods: diff('skippedPeriods'), socketErrors: diff('socketErrors') },
      command: rtpe.command,
      warnings,
    };
  } finally {
    blaster?.stop();
    const failed: string[] = [];
    for (const c of calls) {
      await rtpe.ng.delete({ 'call-id': c.callId, 'from-tag': c.fromTag }).catch((e: unknown) => failed.push(String(e)));
    }
    if (failed.length) log(`rtpengine: ${failed.length} of ${calls.length} deletes failed, e.g. ${failed[0]}`);
    blaster?.close();
    await rtpe.stop();
  }
}
