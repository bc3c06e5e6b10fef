/**
 * baresip (Debian baresip-core 1.0) as a real SIP phone for the SRTP tests: it dials the gateway
 * over UDP, offers RTP/SAVP with SDES keys (`mediaenc=srtp-mand`, RFC 4568) or plain RTP, sends
 * silence from a WAV file and keys digits as RFC 4733 events, typed through its UDP console (cons).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeMediaPort, freePort } from './ports.js';

export interface BaresipOptions {
  /** Request-URI to dial, e.g. sip:pay-CODE@127.0.0.1:5060. */
  uri: string;
  /** `srtp-mand`: RTP/SAVP with a=crypto only; `none`: plain RTP/AVP. */
  mediaenc: 'srtp-mand' | 'none';
  /** baresip quits after this many seconds. */
  timeoutS: number;
}

export interface Baresip {
  readonly output: () => string;
  /** Resolves when baresip reports the call established; rejects when it ends first. */
  established: Promise<void>;
  /** Resolves when the process has exited. */
  exited: Promise<number | null>;
  /** Keys digits through the console, `gapMs` apart: each is pressed, released halfway, and sent as one RFC 4733 event. */
  keys(digits: string, gapMs?: number): Promise<void>;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function silenceWav(path: string, seconds: number): void {
  const samples = 8000 * seconds;
  const h = Buffer.alloc(44);
  h.write('RIFF', 0);
  h.writeUInt32LE(36 + samples * 2, 4);
  h.write('WAVEfmt ', 8);
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20); // PCM
  h.writeUInt16LE(1, 22); // mono
  h.writeUInt32LE(8000, 24);
  h.writeUInt32LE(16000, 28);
  h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36);
  h.writeUInt32LE(samples * 2, 40);
  writeFileSync(path, Buffer.concat([h, Buffer.alloc(samples * 2)]));
}

export async function startBaresip(opts: BaresipOptions): Promise<Baresip> {
  const dir = mkdtempSync(join(tmpdir(), 'tg-baresip-'));
  const sipPort = await freePort();
  const consPort = await freePort();
  const rtp = await freeMediaPort();
  silenceWav(join(dir, 'silence.wav'), opts.timeoutS + 5);
  writeFileSync(join(dir, 'config'), [
    'poll_method epoll',
    // Without this baresip advertises the host's first interface address in SDP while its packets
    // come from 127.0.0.1, and symmetric-RTP latching rightly drops them.
    'net_interface 127.0.0.1',
    `sip_listen 127.0.0.1:${sipPort}`,
    `audio_source aufile,${join(dir, 'silence.wav')}`,
    `audio_player aufile,${join(dir, 'heard.wav')}`,
    `audio_alert aufile,${join(dir, 'alert.wav')}`,
    'ausrc_srate 8000', 'auplay_srate 8000', 'ausrc_channels 1', 'auplay_channels 1',
    `rtp_ports ${rtp}-${rtp + 3}`,
    'module_path /usr/lib/baresip/modules',
    'module g711.so', 'module aufile.so', 'module srtp.so', 'module cons.so',
    'module_app account.so', 'module_app menu.so',
    `cons_listen 127.0.0.1:${consPort}`,
    '',
  ].join('\n'));
  const enc = opts.mediaenc === 'none' ? '' : `;mediaenc=${opts.mediaenc}`;
  writeFileSync(join(dir, 'accounts'), `<sip:customer@127.0.0.1>;regint=0${enc};audio_codecs=PCMU\n`);
  const proc: ChildProcess = spawn('baresip', ['-f', dir, '-e', `/dial ${opts.uri}`, '-t', String(opts.timeoutS)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const onData = (d: Buffer) => void (out += d.toString());
  proc.stdout!.on('data', onData);
  proc.stderr!.on('data', onData);
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  const established = new Promise<void>((resolve, reject) => {
    const check = () => {
      if (/established/i.test(out)) resolve();
    };
    proc.stdout!.on('data', check);
    void exited.then(() => reject(new Error(`baresip ended before the call was established:\n${out}`)));
  });
  established.catch(() => {});
  const cons = createSocket('udp4');
  return {
    output: () => out,
    established,
    exited,
    async keys(digits, gapMs = 400) {
      for (const d of digits) {
        cons.send(Buffer.from(d), consPort, '127.0.0.1');
        await sleep(gapMs / 2);
        // KEYCODE_REL (0x04): releases the key. Without it the event lasts until the next key, and
        // the last digit of a field would only end when the next field is keyed.
        cons.send(Buffer.from([0x04]), consPort, '127.0.0.1');
        await sleep(gapMs / 2);
      }
    },
    async stop() {
      try {
        cons.close();
      } catch {
        // closed already
      }
      if (proc.exitCode === null) proc.kill('SIGTERM');
      await exited;
    },
  };
}
