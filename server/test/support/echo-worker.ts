import { serve } from '../../src/media/worker/serve.js';

/** A worker for the channel tests: echo, remote errors, silence, crashes and notifications. */
export type EchoMethods = {
  echo: [{ value: number; delayMs?: number }, { value: number }];
  fail: [{ code: string }, never];
  silent: [Record<string, never>, never];
  crash: [{ code: number }, never];
  ping: [{ times: number }, { sent: number }];
};

const { notify } = serve<EchoMethods>({
  echo: async ({ value, delayMs }) => {
    if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
    return { value };
  },
  fail: ({ code }) => {
    throw Object.assign(new Error('refused on purpose'), { code });
  },
  silent: () => new Promise<never>(() => {}),
  crash: ({ code }) => process.exit(code),
  ping: ({ times }) => {
    for (let i = 0; i < times; i++) notify('pong', { i });
    return { sent: times };
  },
});
