/**
 * The bridge's mute matrix: for every listening leg, which other legs it hears, and whether it
 * hears its prompt player and the capture tone. Two presets:
 *
 *   normal   every leg hears every other leg (customer <-> agent; customer audio reaches agents
 *            only through the DTMF guard), prompts audible, no capture tone
 *   capture  customers hear their prompts only; agents hear other agents (a supervisor, say)
 *            and the capture tone if enabled, never the customer; no agent audio reaches a
 *            customer
 */
export type LegRole = 'customer' | 'agent';
export type BridgeMode = 'normal' | 'capture';

export interface MatrixRow {
  legs: string[];
  prompt: boolean;
  captureTone: boolean;
}

export type MuteMatrix = Record<string, MatrixRow>;

export function presetMatrix(mode: BridgeMode, legs: readonly { id: string; role: LegRole }[], captureTone: boolean): MuteMatrix {
  const m: MuteMatrix = {};
  for (const l of legs) {
    const others = legs.filter((o) => o.id !== l.id);
    if (mode === 'normal') m[l.id] = { legs: others.map((o) => o.id), prompt: true, captureTone: false };
    else if (l.role === 'customer') m[l.id] = { legs: [], prompt: true, captureTone: false };
    else m[l.id] = { legs: others.filter((o) => o.role === 'agent').map((o) => o.id), prompt: false, captureTone };
  }
  return m;
}

/** Throws a RangeError naming the first unknown leg or self-reference. */
export function validateMatrix(m: MuteMatrix, legIds: ReadonlySet<string>): void {
  for (const [listener, row] of Object.entries(m)) {
    if (!legIds.has(listener)) throw new RangeError(`mute matrix: unknown listener leg "${listener}"`);
    if (!row || !Array.isArray(row.legs)) throw new RangeError(`mute matrix: row "${listener}" has no legs list`);
    for (const src of row.legs) {
      if (!legIds.has(src)) throw new RangeError(`mute matrix: row "${listener}" names unknown leg "${src}"`);
      if (src === listener) throw new RangeError(`mute matrix: leg "${listener}" cannot hear itself`);
    }
  }
}
