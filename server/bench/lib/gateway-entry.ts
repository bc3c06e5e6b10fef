/**
 * Entry point of the gateway under the SIP benchmark: `node --expose-gc --import tsx
 * server/bench/lib/gateway-entry.ts` (with an IPC channel). It installs the bench probe, then runs
 * server/src/main.ts exactly as `npm start` does. (The probe is not passed with `--import`: the
 * gateway's media worker threads inherit the parent's execArgv and must not load it.)
 */
import './probe.js';

await import('../../src/main.js');
