/**
 * WebRTC leg benchmark (npm run bench:webrtc; or npx tsx server/bench/webrtc.ts [--steps=10,25,50]
 * [--seconds=10]).
 *
 * Method: this process is the gateway side and runs only WebRtcLegs (werift RTCPeerConnection,
 * ICE, DTLS-SRTP, the plain socket). A child process is the far side: per leg one werift peer as
 * the browser (sends 20 ms PCMU with sender.sendRtp, 50 packets/s) and one UDP socket as the
 * media plane's leg (sends 20 ms PCMU to plainLocal, 50 packets/s), and it counts what arrives on
 * each side. For each step of N concurrent legs: set up N legs (createOffer -> child answers ->
 * setAnswer, setPlainTarget), wait until all are connected, let media run 2 s, then measure this
 * process's CPU time (process.cpuUsage, user + system) over a steady window of `seconds` and the
 * packets delivered in both directions during it. CPU per leg = CPU time / wall time / N, as a
 * share of one core, normalised to 50 packets/s each way by the rate the far side actually sent;
 * legs per core = 1 / that (an extrapolation: on a 2-core host the far side, which does the same
 * SRTP work, saturates first). Steps stop when this process uses > 90 % of a core
 * or delivery drops below 99 %. All on 127.0.0.1: no network cost, no browser.
 */
import { fork, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { fileURLToPath } from 'node:url';
import { cpus, loadavg } from 'node:os';
import { replaceMarkedSection } from './lib/report.js';
import { RTCPeerConnection } from 'werift';
import { WebRtcLeg } from '../src/webrtc/index.js';
import { runBench } from './lib/run-bench.js';

const HOST = '127.0.0.1';
type FarRequest = { op: 'answer'; offers: { sdp: string; plainPort: number }[] } | { op: 'count' } | { op: 'reset' };
type FarReply = { answers: { sdp: string; port: number }[] } | { count: { toBrowser: number; toPlain: number; sentToBrowser: number; sentToPlain: number } } | { ok: true };

function pcmuPacket(seq: number, ts: number, ssrc: number): Buffer {
  const b = Buffer.alloc(172, 0xff);
  b[0] = 0x80;
  b[1] = 0;
  b.writeUInt16BE(seq & 0xffff, 2);
  b.writeUInt32BE(ts >>> 0, 4);
  b.writeUInt32BE(ssrc >>> 0, 8);
  return b;
}

/** The far side (child process): browsers and plane legs. */
async function far(): Promise<void> {
  const peers: RTCPeerConnection[] = [];
  const senders: { send(k: number): void }[] = [];
  const count = { toBrowser: 0, toPlain: 0, sentToBrowser: 0, sentToPlain: 0 };
  let k = 0;
  setInterval(() => {
    k++;
    for (const s of senders) s.send(k);
  }, 20);
  process.on('message', (m: FarRequest) => {
    void (async () => {
      if (m.op === 'count') return process.send!({ count: { ...count } } satisfies FarReply);
      if (m.op === 'reset') {
        count.toBrowser = count.toPlain = count.sentToBrowser = count.sentToPlain = 0;
        return process.send!({ ok: true } satisfies FarReply);
      }
      const answers = await Promise.all(m.offers.map(async ({ sdp, plainPort }) => {
        const pc = new RTCPeerConnection({ iceServers: [], iceUseIpv6: false, iceInterfaceAddresses: { udp4: HOST }, iceAdditionalHostAddresses: [HOST] });
        peers.push(pc);
        pc.onTrack.subscribe((t) => t.onReceiveRtp.subscribe(() => void count.toBrowser++));
        await pc.setRemoteDescription({ type: 'offer', sdp });
        const t = pc.getTransceivers()[0]!;
        t.setDirection('sendrecv');
        await pc.setLocalDescription(await pc.createAnswer());
        while (pc.iceGatheringState !== 'complete') await new Promise((r) => setTimeout(r, 10));
        const sock = dgram.createSocket('udp4');
        await new Promise<void>((r) => sock.bind(0, HOST, r));
        sock.on('message', () => void count.toPlain++);
        const ssrc = (Math.random() * 2 ** 32) >>> 0;
        senders.push({
          send: (n) => {
            // what the plane leg sends goes to the browser; what the browser sends goes to the plane leg
            sock.send(pcmuPacket(n, n * 160, ssrc), plainPort, HOST);
            count.sentToBrowser++;
            if (pc.connectionState !== 'connected') return;
            t.sender.sendRtp(pcmuPacket(n, n * 160, ssrc)).catch(() => {});
            count.sentToPlain++;
          },
        });
        return { sdp: pc.localDescription!.sdp, port: sock.address().port };
      }));
      process.send!({ answers } satisfies FarReply);
    })();
  });
}

function ask(child: ChildProcess, req: FarRequest): Promise<FarReply> {
  return new Promise((resolve) => {
    child.once('message', (m: FarReply) => resolve(m));
    child.send(req);
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const arg = (name: string): string | undefined => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
  const steps = (arg('steps') ?? '10,25,50,100,150,200').split(',').map(Number);
  const seconds = Number(arg('seconds') ?? 10);
  const child = fork(fileURLToPath(import.meta.url), ['--far'], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const legs: WebRtcLeg[] = [];
  const rows: string[] = [];
  console.log(`bench:webrtc: ${seconds} s windows; steps ${steps.join(', ')} legs; node ${process.version}`);
  try {
    for (const n of steps) {
      const add = n - legs.length;
      const fresh = await Promise.all(Array.from({ length: add }, () => WebRtcLeg.create({ mediaAddress: HOST, connectTimeoutMs: 30_000 })));
      const offers = await Promise.all(fresh.map(async (leg) => ({ sdp: await leg.createOffer(), plainPort: leg.plainLocal.port })));
      const reply = await ask(child, { op: 'answer', offers });
      if (!('answers' in reply)) throw new Error('far side did not answer');
      await Promise.all(fresh.map((leg, i) => {
        leg.setPlainTarget({ address: HOST, port: reply.answers[i]!.port });
        return leg.setAnswer(reply.answers[i]!.sdp);
      }));
      legs.push(...fresh);
      const t0 = Date.now();
      while (legs.some((l) => l.state !== 'connected')) {
        if (legs.some((l) => l.state === 'closed' || l.state === 'failed')) throw new Error('a leg failed to connect');
        if (Date.now() - t0 > 60_000) throw new Error('legs did not connect in 60 s');
        await sleep(50);
      }
      await sleep(2000);
      await ask(child, { op: 'reset' });
      const cpu0 = process.cpuUsage();
      const w0 = performance.now();
      await sleep(seconds * 1000);
      const cpu = process.cpuUsage(cpu0);
      const wall = (performance.now() - w0) / 1000;
      const c = await ask(child, { op: 'count' });
      if (!('count' in c)) throw new Error('far side did not count');
      const core = (cpu.user + cpu.system) / 1e6 / wall;
      const { toBrowser, toPlain, sentToBrowser, sentToPlain } = c.count;
      const rate = sentToBrowser / n / wall;
      // normalised to 50 packets/s each way (the far side may not keep up at larger steps)
      const perLeg = (core / n) * (50 / rate);
      const row = `${String(n).padStart(5)} legs  CPU ${(core * 100).toFixed(1).padStart(5)} % of a core at ${rate.toFixed(1)} pkt/s/leg each way  => ${(perLeg * 100).toFixed(3)} % of a core per leg at 50 pkt/s (~${Math.floor(1 / perLeg)} legs/core)  delivered plain->browser ${((toBrowser / sentToBrowser) * 100).toFixed(2)} %  browser->plain ${((toPlain / sentToPlain) * 100).toFixed(2)} %`;
      rows.push(row);
      console.log(row);
      if (core > 0.9 || toBrowser < 0.99 * sentToBrowser || toPlain < 0.99 * sentToPlain) break;
      if (rate < 45) {
        console.log('  (stopping: the far side no longer sends 50 packets/s per leg; larger steps would measure the generator)');
        break;
      }
    }
  } finally {
    await Promise.all(legs.map((l) => l.close()));
    child.kill();
  }
  console.log('\nMethod: gateway-side process runs only the legs; far side (werift browsers + plain sockets) in a child process; CPU = process.cpuUsage over the window / wall time.');
  if (!process.argv.includes('--no-write')) {
    const body = [
      START,
      '## WebRTC agent legs (`npm run bench:webrtc`)',
      '',
      `Run ${new Date().toISOString()} on ${cpus()[0]?.model ?? '?'}, ${cpus().length} cores, Node ${process.version}, load average ${loadavg().map((x) => x.toFixed(2)).join(' ')} at the end.`,
      '',
      'Method: this process runs only the gateway side\'s WebRtcLegs (werift: ICE, DTLS-SRTP, the plain socket towards the media plane); a child process is the far side (one werift peer per leg as the browser, one UDP socket per leg as the media plane), each sending 20 ms PCMU at 50 packets/s. Per step of N legs: set up, wait for all connected, run 2 s, then measure this process\'s CPU (user + system) over a steady window and the packets delivered both ways. CPU per leg is normalised to 50 packets/s each way; legs per core = 1 / that, an extrapolation (the far side, doing the same SRTP work on the same 2 cores, saturates first, and steps stop there). Loopback only: no network cost, no browser.',
      '',
      '```',
      ...rows,
      '```',
      '',
      'Note: the legs run werift (SRTP in JavaScript) on the main thread, where SIP signalling runs; hosting them in a worker is the next step when many browser agents share one gateway.',
      END,
    ].join('\n');
    replaceMarkedSection(fileURLToPath(new URL('./RESULTS.md', import.meta.url)), START, END, body);
  }
}

const START = '<!-- bench:webrtc -->';
const END = '<!-- /bench:webrtc -->';

if (process.argv.includes('--far')) void far();
else await runBench(main);
