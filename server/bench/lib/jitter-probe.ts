/**
 * The jitter probe of bench:load: one extra payment call, placed by a Node customer
 * (lib/pay-customer.ts) beside SIPp's, that keys nothing and only listens to the gateway's prompt
 * stream for the length of a step, measuring it per RFC 3550: interarrival jitter (A.8, sampled
 * every second) and loss (A.3). When the gateway ends the call (no input), the next one starts.
 * Its order references start with PROBE-, so the step's judging (LOAD- only) never sees it.
 * The arrival times include the bench process's own event-loop delay: the figure is an upper bound
 * of the jitter the gateway adds.
 */
import { PayCustomer } from './pay-customer.js';
import { pct } from './report.js';
import { sleep } from '../../devtools/procs.js';

export interface ProbeResult {
  calls: number;
  packets: number;
  lost: number;
  /** Jitter samples (1 s apart) p50 / p99 / max, ms. */
  jitterMs: { p50: number; p99: number; max: number };
}

export function startJitterProbe(gateway: { host: string; port: number }, tag: string): { stop: () => Promise<ProbeResult> } {
  let stopping = false;
  const samples: number[] = [];
  let calls = 0;
  let packets = 0;
  let lost = 0;
  const loop = (async () => {
    while (!stopping) {
      const c = await PayCustomer.open(gateway);
      try {
        const status = await c.call({
          'X-Pay-Amount': '1.00', 'X-Pay-Currency': 'INR', 'X-Pay-Merchant-Id': 'M-PROBE', 'X-Pay-Order-Ref': `PROBE-${tag}-${++calls}`, 'X-Pay-Customer-Mobile': '+919800000001',
        });
        if (status !== 200) {
          await sleep(1000);
          continue;
        }
        let ended = false;
        void c.byeReceived.then(() => (ended = true));
        await sleep(2000); // past the answer: the stream is flowing
        while (!stopping && !ended) {
          await sleep(1000);
          const s = c.rxStats();
          if (s.packets > 0) samples.push(s.jitterMs);
        }
        if (!ended) c.bye();
        const s = c.rxStats();
        packets += s.packets;
        lost += s.lost;
      } finally {
        c.close();
      }
    }
  })();
  return {
    stop: async () => {
      stopping = true;
      await loop;
      const r1 = (x: number): number => Math.round(x * 100) / 100;
      return { calls, packets, lost, jitterMs: { p50: r1(pct(samples, 50)), p99: r1(pct(samples, 99)), max: r1(samples.length ? Math.max(...samples) : NaN) } };
    },
  };
}
