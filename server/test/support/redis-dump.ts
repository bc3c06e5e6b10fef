import { createClient } from 'redis';

/** Every key of a Redis with its type and whole value (all types), as text for leak scans. */
export async function dumpRedis(url: string): Promise<{ keys: number; text: string }> {
  const c = createClient({ url });
  await c.connect();
  const out: string[] = [];
  let keys = 0;
  try {
    for await (const batch of c.scanIterator({ COUNT: 500 })) {
      for (const key of batch) {
        keys++;
        const type = await c.type(key);
        let value: unknown;
        if (type === 'string') value = await c.get(key);
        else if (type === 'hash') value = await c.hGetAll(key);
        else if (type === 'list') value = await c.lRange(key, 0, -1);
        else if (type === 'set') value = await c.sMembers(key);
        else if (type === 'zset') value = await c.zRangeWithScores(key, 0, -1);
        else if (type === 'stream') value = await c.xRange(key, '-', '+');
        else value = `<unreadable type ${type}>`;
        out.push(`${type} ${key} ${JSON.stringify(value)}`);
      }
    }
  } finally {
    await c.close();
  }
  return { keys, text: out.join('\n') };
}

/**
 * Card data in a text: the PAN anywhere (whole or its middle digits), and the CVV, expiry and OTP
 * as whole numbers (ISO timestamps removed first, so `10:07:37.947Z` is not a CVV of 947).
 */
export function findCardData(text: string, card: { pan: string; cvv: string; expiry: string; otp: string }): string[] {
  const found: string[] = [];
  if (text.includes(card.pan)) found.push('pan');
  if (text.includes(card.pan.slice(6, 12))) found.push('pan middle digits');
  const tokens = new Set(text.replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, ' ').split(/[^A-Za-z0-9]+/));
  if (tokens.has(card.cvv)) found.push('cvv');
  if (tokens.has(card.expiry)) found.push('expiry');
  if (tokens.has(card.otp)) found.push('otp');
  return found;
}
