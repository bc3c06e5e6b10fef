import { randomBytes } from 'node:crypto';

/** RFC 3261 8.1.1.7: branch starts with the magic cookie; the rest is unique per transaction. */
export const newBranch = (): string => 'z9hG4bK' + randomBytes(9).toString('base64url');
/** RFC 3261 19.3: tags are globally unique, at least 32 bits of randomness. */
export const newTag = (): string => randomBytes(6).toString('hex');
/** RFC 3261 8.1.1.4. */
export const newCallId = (host: string): string => randomBytes(12).toString('base64url') + '@' + host;
/** RFC 3261 8.1.1.5: initial CSeq below 2^31. */
export const initialCSeq = (): number => 1 + (randomBytes(2).readUInt16BE(0) % 10_000);
