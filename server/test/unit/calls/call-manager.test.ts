import { describe, expect, it, vi } from 'vitest';
import type { Call } from '../../../src/calls/b2bua/call.js';
import type { CallDeps } from '../../../src/calls/b2bua/types.js';
import { CallManager } from '../../../src/calls/call-manager.js';
import { Registrar } from '../../../src/calls/registrar/index.js';
import { RegistrarService } from '../../../src/calls/registrar-service.js';
import { DigestAuthenticator } from '../../../src/sip/auth/index.js';
import { silentLogger } from '../../../src/observability/logger.js';
import type { SipFlow } from '../../../src/sip/transport/types.js';
import { FakeClock } from '../../support/fake-clock.js';

function setup() {
  const clock = new FakeClock();
  const registrar = new Registrar({ clock });
  const log = silentLogger;
  const authenticator = new DigestAuthenticator({ realm: 'tonegate', clock, nonceTtlMs: 60_000 });
  const service = new RegistrarService(registrar, { realm: 'tonegate', algorithms: undefined, passwordOf: () => undefined, authenticator, logger: log });
  const manager = new CallManager({ clock, logger: log } as unknown as CallDeps, service, log);
  const call = (aFlow: string, bFlow: string | undefined) => {
    const c = { aFlow: { id: aFlow }, bFlow: bFlow === undefined ? undefined : { id: bFlow }, hangup: vi.fn() };
    manager.calls.add(c as unknown as Call);
    return c;
  };
  const flow = (id: string) => ({ id }) as SipFlow;
  return { registrar, manager, call, flow };
}

describe('CallManager.onFlowClosed', () => {
  it('drops the registrations that came on the closed connection', () => {
    const { registrar, manager, flow } = setup();
    registrar.register('agent-1', [{ uri: 'sip:agent-1@x.invalid;transport=ws' }], 300, 'c1', 1, 'ws:1');
    registrar.register('agent-2', [{ uri: 'sip:agent-2@y.invalid;transport=ws' }], 300, 'c2', 1, 'ws:2');
    manager.onFlowClosed(flow('ws:1'));
    expect(registrar.isRegistered('agent-1')).toBe(false);
    expect(registrar.isRegistered('agent-2')).toBe(true);
  });

  it('hangs up the calls with a leg on the closed connection (RFC 7118 5: it cannot be reached again), and only those', () => {
    const { manager, call, flow } = setup();
    const agentGone = call('udp:127.0.0.1:5070', 'ws:1');
    const callerGone = call('tcp:3', 'ws:2');
    const other = call('udp:127.0.0.1:5072', 'ws:4');
    const notYetRouted = call('udp:127.0.0.1:5074', undefined);
    manager.onFlowClosed(flow('ws:1'));
    manager.onFlowClosed(flow('tcp:3'));
    expect(agentGone.hangup).toHaveBeenCalledWith('connection closed');
    expect(callerGone.hangup).toHaveBeenCalledWith('connection closed');
    expect(other.hangup).not.toHaveBeenCalled();
    expect(notYetRouted.hangup).not.toHaveBeenCalled();
  });
});
