import { createSocket, type Socket } from 'node:dgram';
import { createServer, type Server } from 'node:net';

/** A UDP+TCP port that is free right now on 127.0.0.1 (both protocols: SIPp and the gateway may use either). */
export async function freePort(): Promise<number> {
  const hold = await holdPorts(1);
  await hold.release();
  return hold.ports[0]!;
}

/** Whether `port` can be bound for UDP on 127.0.0.1 right now. */
export function udpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const u = createSocket('udp4');
    u.once('error', () => resolve(false));
    u.bind(port, '127.0.0.1', () => u.close(() => resolve(true)));
  });
}

/** An even port P with P..P+3 free for UDP (RTP, RTCP, and SIPp's echo on P+2). */
export async function freeMediaPort(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const base = 40000 + 2 * Math.floor(Math.random() * 10000);
    const socks = [];
    let ok = true;
    for (let p = base; p < base + 4; p++) {
      const u = createSocket('udp4');
      const bound = await new Promise<boolean>((r) => {
        u.once('error', () => r(false));
        u.bind(p, '127.0.0.1', () => r(true));
      });
      socks.push(u);
      if (!bound) {
        ok = false;
        break;
      }
    }
    await Promise.all(socks.map((s) => new Promise<void>((r) => { try { s.close(() => r()); } catch { r(); } })));
    if (ok) return base;
  }
  throw new Error('no free media port range');
}

/** Ports held bound (TCP listener and UDP socket on 127.0.0.1) until `release()`. */
export interface PortHold {
  readonly ports: number[];
  release(): Promise<void>;
}

/**
 * `n` ports held bound until `release()`: for a port that must be named before the process that
 * binds it starts (a URL handed to other processes first). While it is held, the kernel gives it
 * to no other bind and to no outgoing connection's ephemeral port; release right before the spawn.
 */
export async function holdPorts(n: number): Promise<PortHold> {
  const servers: Server[] = [];
  const udps: Socket[] = [];
  const ports: number[] = [];
  for (let tries = 0; ports.length < n; tries++) {
    if (tries >= 50 * n) {
      await closeAll(servers, udps);
      throw new Error(`no ${n} free ports on 127.0.0.1 (TCP and UDP) after ${tries} tries`);
    }
    const s = createServer();
    const port = await new Promise<number>((resolve, reject) => {
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => resolve((s.address() as { port: number }).port));
    });
    const u = createSocket('udp4');
    const bound = await new Promise<boolean>((r) => {
      u.once('error', () => r(false));
      u.bind(port, '127.0.0.1', () => r(true));
    });
    if (!bound) {
      await closeAll([s], []);
      try {
        u.close();
      } catch {
        // never bound: nothing to close
      }
      continue;
    }
    servers.push(s);
    udps.push(u);
    ports.push(port);
  }
  return {
    ports,
    release: () => closeAll(servers, udps),
  };
}

async function closeAll(servers: Server[], udps: Socket[]): Promise<void> {
  await Promise.all([...servers.map((s) => new Promise<void>((r) => s.close(() => r()))), ...udps.map((u) => new Promise<void>((r) => u.close(() => r())))]);
}
