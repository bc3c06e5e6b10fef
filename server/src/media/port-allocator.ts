/**
 * RTP port pairs from a configured range: RTP on an even port, RTCP on the next odd one
 * (RFC 3550 §11: "RTP SHOULD use an even destination port number and the corresponding RTCP
 * stream SHOULD use the next higher (odd) destination port number").
 *
 * Allocation is round-robin: a cursor walks the range and a released port is only handed out again
 * once the cursor has come round, so late packets for a call that just ended do not land in the
 * next call that would otherwise get the same port.
 */

export class PortExhaustedError extends Error {
  readonly code = 'PORT_EXHAUSTED';
  constructor(min: number, max: number) {
    super(`no free RTP port pair in ${min}-${max}`);
    this.name = 'PortExhaustedError';
  }
}

export class PortAllocator {
  /** First and last usable even RTP ports (the last one's RTCP port is still <= max). */
  private readonly first: number;
  private readonly last: number;
  private readonly inUse = new Set<number>();
  private cursor: number;

  constructor(readonly min: number, readonly max: number) {
    if (!Number.isInteger(min) || !Number.isInteger(max) || min < 1 || max > 65535) {
      throw new RangeError(`PortAllocator: bad range ${min}-${max}`);
    }
    this.first = min % 2 === 0 ? min : min + 1;
    this.last = max % 2 === 1 ? max - 1 : max - 2;
    if (this.first > this.last) throw new RangeError(`PortAllocator: ${min}-${max} holds no even/odd port pair`);
    this.cursor = this.first;
  }

  /** Number of RTP/RTCP pairs in the range. */
  get capacity(): number {
    return (this.last - this.first) / 2 + 1;
  }

  get allocated(): number {
    return this.inUse.size;
  }

  /** The next free even RTP port (its RTCP port is the result + 1). Throws PortExhaustedError. */
  allocate(): number {
    for (let i = 0; i < this.capacity; i++) {
      const port = this.cursor;
      this.cursor = port + 2 > this.last ? this.first : port + 2;
      if (!this.inUse.has(port)) {
        this.inUse.add(port);
        return port;
      }
    }
    throw new PortExhaustedError(this.min, this.max);
  }

  /** Give an RTP port back. Releasing a port that is not allocated is a no-op (returns false). */
  release(port: number): boolean {
    return this.inUse.delete(port);
  }

  isAllocated(port: number): boolean {
    return this.inUse.has(port);
  }
}
