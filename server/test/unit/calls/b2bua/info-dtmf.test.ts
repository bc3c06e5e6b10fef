import { describe, expect, it } from 'vitest';
import { forgetInfoBody, parseInfoDigit } from '../../../../src/calls/b2bua/info-dtmf.js';

describe('DTMF in SIP INFO bodies', () => {
  it.each([
    ['application/dtmf-relay', 'Signal=5\r\nDuration=160\r\n', { digit: '5', durationMs: 160 }],
    ['application/dtmf-relay', 'Signal=11\r\n', { digit: '#', durationMs: undefined }],
    ['application/dtmf', '7', { digit: '7', durationMs: undefined }],
    ['application/dtmf-relay', 'Duration=160\r\n', { error: 'dtmf-relay body without Signal', status: 400 }],
    ['text/plain', '5', { error: 'Unsupported Media Type', status: 415 }],
  ])('%s %j -> %j', (type, body, want) => {
    expect(parseInfoDigit(type, body)).toEqual(want);
  });

  it('forgetInfoBody drops the body and the raw message once the digit is read', () => {
    const req = { body: 'Signal=4\r\n', data: 'INFO sip:x SIP/2.0\r\n...\r\n\r\nSignal=4\r\n' };
    forgetInfoBody(req);
    expect(req).toEqual({ body: '', data: '' });
  });
});
