// Worker entry for TypeScript workers: registers tsx's loader inside the worker thread, then
// imports the real entry (given by the parent as workerData.entry). Node 20 does not apply a
// parent's --import hooks to a worker's first module, so the worker registers them itself.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
