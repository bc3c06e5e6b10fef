/**
 * bench:load's side-by-side figure: rtpengine (lib/rtpengine.ts) relays the same RTP load tonegate
 * carried at its maximum step, and both are put as CPU ms per 1000 packets received.
 *
 * The same load: a tonegate payment call receives 50 packets/s from the customer and sends 50
 * (prompts); a relayed rtpengine session receives 50 each way and forwards them, 100 in and 100
 * out. So rtpengine gets half as many sessions as tonegate held calls: the same packets/s in and out.
 */
import type { LoadStep } from './load-run.js';
import type { RelayComparison } from './load-report.js';
import { relayCpu } from './rtpengine-relay.js';

export async function compareWithRelay(top: LoadStep, seconds = 20): Promise<RelayComparison> {
  const sessions = Math.max(1, Math.ceil(top.maxCalls / 2));
  const r = await relayCpu({ sessions, seconds, log: () => {} });
  const tonegatePer1000InOut = top.rtp.in + top.rtp.out > 0 ? Math.round((top.cpuMsPer1000In * top.rtp.in * 1000) / (top.rtp.in + top.rtp.out)) / 1000 : NaN;
  return {
    sessions,
    seconds,
    tonegatePer1000In: top.cpuMsPer1000In,
    tonegatePer1000InOut,
    tonegatePps: { in: top.rtp.inPps, out: top.rtp.outPps },
    rtpengine: {
      version: r.version,
      packetsIn: r.packetsIn,
      pps: Math.round(r.packetsIn / r.seconds),
      delivered: r.delivered,
      cpuPct: Math.round((1000 * r.cpuSeconds) / r.seconds) / 10,
      per1000In: r.cpuPer1000Packets,
    },
    ratio: top.cpuMsPer1000In / r.cpuPer1000Packets,
  };
}
