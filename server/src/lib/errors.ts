/** The few error classes of docs/architecture.md practice 10. */
export class InvalidStateError extends Error {
  readonly code = 'INVALID_STATE';
  constructor(
    readonly machine: string,
    readonly state: string,
    readonly event: string,
  ) {
    super(`${machine}: event "${event}" is not allowed in state "${state}"`);
    this.name = 'InvalidStateError';
  }
}

/** A SIP failure that maps to a response status. */
export class SipError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly warning?: string,
  ) {
    super(message);
    this.name = 'SipError';
  }
}
