import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { holdPorts, udpFree } from '../../../devtools/ports.js';

function tcpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

describe('holdPorts', () => {
  it('keeps distinct ports bound for TCP and UDP until release, then frees them', async () => {
    const held = await holdPorts(3);
    expect(new Set(held.ports).size).toBe(3);
    for (const p of held.ports) {
      expect(await tcpFree(p)).toBe(false);
      expect(await udpFree(p)).toBe(false);
    }
    await held.release();
    for (const p of held.ports) {
      expect(await tcpFree(p)).toBe(true);
      expect(await udpFree(p)).toBe(true);
    }
  });

});
