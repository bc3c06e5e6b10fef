/**
 * Media worker entry (started by plane.ts through Channel.spawn): one Engine with its clock,
 * sockets and bridges, served over the numbered channel. Worker data: the media address, the
 * prompt directory, the worker's index.
 */
import { getHeapStatistics } from 'node:v8';
import { Engine } from '../engine/engine.js';
import type { MediaMethods, Notify, WorkerMemory } from '../engine/protocol.js';
import { PromptLibrary } from '../prompts/library.js';
import { channelData, serve, type Handlers } from './serve.js';

export interface MediaWorkerData {
  address: string;
  promptsDir?: string;
  index: number;
}

const data = channelData<MediaWorkerData>();
const library = new PromptLibrary(data.promptsDir);
let send: (event: string, payload: unknown) => void = () => {};
const notify: Notify = (event, payload) => send(event, payload);
const engine = new Engine({ address: data.address, library, notify });

function memory(): WorkerMemory {
  const u = process.memoryUsage();
  return { heapUsed: u.heapUsed, heapTotal: u.heapTotal, external: u.external, arrayBuffers: u.arrayBuffers, malloced: getHeapStatistics().malloced_memory };
}

const handlers: Handlers<MediaMethods> = {
  createBridge: ({ id, opts }) => ({ slot: engine.createBridge(id, opts).slot }),
  closeBridge: ({ id }) => engine.closeBridge(id),
  addLeg: ({ bridgeId, legId, role, rtpPort }) => engine.bridge(bridgeId).addLeg(legId, role, rtpPort),
  configureLeg: ({ bridgeId, legId, cfg }) => engine.bridge(bridgeId).configureLeg(legId, cfg),
  setMode: ({ bridgeId, mode }) => engine.bridge(bridgeId).setMode(mode),
  setMatrix: ({ bridgeId, matrix }) => engine.bridge(bridgeId).setMatrix(matrix),
  play: ({ bridgeId, legId, playId, items, bargeIn }) => engine.bridge(bridgeId).play(legId, playId, items, bargeIn),
  stopPrompts: ({ bridgeId, legId }) => engine.bridge(bridgeId).stopPrompts(legId),
  bridgeStats: ({ bridgeId }) => engine.bridge(bridgeId).stats(),
  stats: ({ resetPeaks }) => ({ ...engine.stats(resetPeaks), memory: memory() }),
  crash: ({ code }) => process.exit(code),
};

send = serve<MediaMethods>(handlers).notify;
if (library.errors.length > 0) notify('log', { level: 'warn', msg: 'media: unreadable prompt files skipped', data: { worker: data.index, errors: library.errors } });
