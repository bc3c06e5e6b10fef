import { describe, expect, it } from 'vitest';
import { sipHostPort } from '../../../src/api/handoffs.js';

describe('the handoff sipUri authority (RFC 3261 19.1.2, 25.1)', () => {
  it.each([
    ['127.0.0.1', 5060, '127.0.0.1'],
    ['127.0.0.1', 5070, '127.0.0.1:5070'],
    ['gw.example.com', 15060, 'gw.example.com:15060'],
    ['::1', 5070, '[::1]:5070'],
    ['::1', 5060, '[::1]'],
    ['[::1]', 5070, '[::1]:5070'],
  ] as const)('%s port %i -> %s', (host, port, expected) => {
    expect(sipHostPort(host, port)).toBe(expected);
  });
});
