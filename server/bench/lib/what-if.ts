/**
 * Opt-in experiments for `npm run bench:sip -- --what-if a,b`: applied inside the gateway process by
 * the bench probe before the gateway starts, to measure what a change in the gateway would buy
 * before anyone makes it. The gateway's own code is not touched; figures from such a run are
 * what-if figures, never the gateway's, and the bench does not write them to RESULTS.md.
 *
 *   udp-rcvbuf  4 MiB receive buffer on the gateway's SIP UDP socket. The default (net.core.
 *               rmem_default, ~208 KiB) holds only a few hundred small datagrams: when the event
 *               loop stalls (GC, a burst, other work on the machine) the kernel drops what arrives,
 *               and every lost INVITE/ACK/BYE costs a retransmission 0.5-4 s later.
 */
import dgram from 'node:dgram';

export const WHAT_IF = ['udp-rcvbuf'] as const;

export function applyWhatIf(list: string): string[] {
  const applied: string[] = [];
  for (const what of list.split(',').map((s) => s.trim()).filter(Boolean)) {
    if (what === 'udp-rcvbuf') bigSipReceiveBuffer(Number(process.env.SIP_PORT), 4 * 2 ** 20);
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
