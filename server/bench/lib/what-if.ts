/**
 * Opt-in experiments for `npm run bench:sip -- --what-if a,b` (bench:soak: `BENCH_WHAT_IF=a,b` in its environment): applied inside the gateway process by
 * the bench probe before the gateway starts, to measure what a change in the gateway would buy
 * before anyone makes it. The gateway's own code is not touched; figures from such a run are
 * what-if figures, never the gateway's, and the bench does not write them to RESULTS.md.
 *
 *   udp-rcvbuf  4 MiB receive buffer on the gateway's SIP UDP socket. The default (net.core.
 *               rmem_default, ~208 KiB) holds only a few hundred small datagrams: when the event
 *               loop stalls (GC, a burst, other work on the machine) the kernel drops what arrives,
 *               and every lost INVITE/ACK/BYE costs a retransmission 0.5-4 s later.
 *   v8-compact  V8's --compact-on-every-full-gc: every full collection evacuates all the old-space
 *               pages fragmented past V8's threshold, instead of at most 4 MB of their live objects
 *               (MarkCompactCollector::ComputeEvacuationHeuristics, regular mode). For bench:soak:
 *               does the old space stop growing when fragmentation is compacted as fast as it forms?
 */
import dgram from 'node:dgram';
import { setFlagsFromString } from 'node:v8';

export const WHAT_IF = ['udp-rcvbuf', 'v8-compact'] as const;

export function applyWhatIf(list: string): string[] {
  const applied: string[] = [];
  for (const what of list.split(',').map((s) => s.trim()).filter(Boolean)) {
    if (what === 'udp-rcvbuf') bigSipReceiveBuffer(Number(process.env.SIP_PORT), 4 * 2 ** 20);
    else if (what === 'v8-compact') setFlagsFromString('--compact-on-every-full-gc');
    else throw new Error(`unknown what-if experiment "${what}" (known: ${WHAT_IF.join(', ')})`);
    applied.push(what);
  }
  return applied;
}

function bigSipReceiveBuffer(port: number, bytes: number): void {
  const create = dgram.createSocket;
  (dgram as { createSocket: typeof dgram.createSocket }).createSocket = ((...args: Parameters<typeof dgram.createSocket>) => {
    const socket = create(...args);
    socket.once('listening', () => {
      if (socket.address().port === port) socket.setRecvBufferSize(bytes);
    });
    return socket;
  }) as typeof dgram.createSocket;
}
