import type { SharedRedis } from '../store/index.js';
import { HandoffStoreUnavailable } from './codes.js';

/**
 * The first lines of every handoff script: the server's clock (TIME; scripts replicate by effects
 * since Redis 5) against the deadline in the last argument. A command that reaches the server after
 * the gateway stopped waiting for it (a hung or partitioned server that resumes and works through
 * its queue) returns -2 and changes nothing, so a refused INVITE never uses up the code or DID it
 * came for, and a refused POST never leaves a code or reservation behind.
 */
export const DEADLINE_CHECK = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if now > tonumber(ARGV[#ARGV]) then return -2 end
`;

/** What the handoff stores need of Redis: a script runner bounded by a timeout (store/backend.ts SharedRedis). */
export interface ScriptTarget {
  readonly client: Pick<SharedRedis, 'eval'>;
  /** How long the caller waits for an answer (the link's command timeout). Default 2 000 ms. */
  readonly timeoutMs?: number;
}

/** Time kept between the script's deadline and the caller's own: the answer must still get back. */
const REPLY_MARGIN_MS = 500;

/**
 * Runs a handoff script with its deadline appended to `args`. Any failure to get an answer
 * (timeout, connection down) and a late run both become {@link HandoffStoreUnavailable}.
 * The deadline assumes the gateways' and Redis's clocks agree to well under the margin (NTP).
 */
export async function runScript(o: ScriptTarget, script: string, keys: string[], args: string[] = []): Promise<unknown> {
  const timeout = o.timeoutMs ?? 2_000;
  const deadline = Date.now() + Math.max(1, timeout - Math.min(REPLY_MARGIN_MS, timeout / 4));
  let r: unknown;
  try {
    r = await o.client.eval(script, { keys, arguments: [...args, String(deadline)] });
  } catch (err) {
    throw new HandoffStoreUnavailable(err instanceof Error ? err.message : String(err));
  }
  if (r === -2) throw new HandoffStoreUnavailable('the command reached Redis after its deadline and changed nothing; is the server clock ahead of this gateway?');
  return r;
}
