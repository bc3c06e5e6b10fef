import { describe, expect, it } from 'vitest';
import { OwnedParts, type CloseCause } from '../../../src/wiring/owned.js';

function recorder() {
  const errors: { part: string; cause: CloseCause }[] = [];
  const log = { error: (o: { part: string; cause: CloseCause }) => void errors.push({ part: o.part, cause: o.cause }) };
  return { errors, owned: new OwnedParts(log as never) };
}

describe('OwnedParts: the close cascade of the composition root', () => {
  it('closes the parts last built first, with the cause', async () => {
    const { owned } = recorder();
    const closed: string[] = [];
    for (const name of ['store', 'sip', 'media', 'calls']) owned.add(name, name, (n, cause) => void closed.push(`${n}:${cause}`));
    expect(owned.closeOrder()).toEqual(['calls', 'media', 'sip', 'store']);
    await owned.close('start-failed');
    expect(closed).toEqual(['calls:start-failed', 'media:start-failed', 'sip:start-failed', 'store:start-failed']);
  });

  it('waits for each part before closing the one it was built on', async () => {
    const { owned } = recorder();
    const order: string[] = [];
    owned.add('below', 0, () => void order.push('below'));
    owned.add('above', 0, async () => {
      await new Promise((r) => setTimeout(r, 20));
      order.push('above');
    });
    await owned.close('shutdown');
    expect(order).toEqual(['above', 'below']);
  });

  it('a part that throws or rejects is logged by name and the others still close', async () => {
    const { owned, errors } = recorder();
    const closed: string[] = [];
    owned.add('a', 0, () => void closed.push('a'));
    owned.add('b', 0, () => {
      throw new Error('boom');
    });
    owned.add('c', 0, async () => Promise.reject(new Error('late boom')));
    owned.add('d', 0, () => void closed.push('d'));
    await owned.close('shutdown');
    expect(closed).toEqual(['d', 'a']);
    expect(errors).toEqual([{ part: 'c', cause: 'shutdown' }, { part: 'b', cause: 'shutdown' }]);
  });

  it('closes once: a second close() returns the same promise and closes nothing again', async () => {
    const { owned } = recorder();
    let n = 0;
    owned.add('x', 0, () => void n++);
    const first = owned.close('shutdown');
    expect(owned.close('start-failed')).toBe(first);
    await first;
    expect(n).toBe(1);
  });

  it('refuses a part built after closing began', async () => {
    const { owned } = recorder();
    await owned.close('shutdown');
    expect(() => owned.add('late', 0, () => {})).toThrow(/late: built after the gateway began to close/);
  });
});
