import WebSocket from 'ws';

/** A Node client of the gateway's /events socket (no Origin: not a browser), logged in as an agent. */
export interface EventsSocket {
  /** Every message received, parsed. */
  readonly messages: Record<string, unknown>[];
  isOpen(): boolean;
  close(): void;
}

export async function agentEvents(baseUrl: string, agentId: string): Promise<EventsSocket> {
  const res = await fetch(`${baseUrl}/api/agents/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ agentId, password: 'demo' }),
  });
  if (!res.ok) throw new Error(`login ${agentId}: ${res.status}`);
  const { token } = (await res.json()) as { token: string };
  const ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/events`);
  const messages: Record<string, unknown>[] = [];
  ws.on('message', (data) => messages.push(JSON.parse(String(data)) as Record<string, unknown>));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => {
      ws.send(JSON.stringify({ type: 'auth', token }));
      resolve();
    });
    ws.once('error', reject);
  });
  return { messages, isOpen: () => ws.readyState === WebSocket.OPEN, close: () => ws.close() };
}
