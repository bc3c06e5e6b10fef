/**
 * `POST /api/agents/login` {agentId, password} -> 200 {token, agentId, expiresAt} | 401 | 429.
 * `unavailable` when the gateway has no such endpoint (404) or cannot be reached: the softphone
 * still works (SIP registration checks the password too), only live progress is missing.
 */
export type LoginResult =
  | { kind: 'ok'; token: string; agentId: string; expiresAt: string }
  | { kind: 'denied' }
  | { kind: 'throttled'; retryAfterS: number | null }
  | { kind: 'unavailable'; status: number };

/**
 * `POST /api/agents/logout` with the agent's token: the gateway revokes it and closes its
 * `/events` sockets (docs/security.md). Best effort: false when the gateway could not be told.
 */
export async function logout(path: string, token: string): Promise<boolean> {
  try {
    const res = await fetch(path, { method: 'POST', headers: { authorization: `Bearer ${token}` }, keepalive: true });
    return res.status === 204;
  } catch {
    return false;
  }
}

export async function login(path: string, agentId: string, password: string): Promise<LoginResult> {
  let res: Response;
  try {
    res = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ agentId, password }) });
  } catch {
    return { kind: 'unavailable', status: 0 };
  }
  if (res.status === 401 || res.status === 403) return { kind: 'denied' };
  if (res.status === 429) {
    const after = Number(res.headers.get('retry-after'));
    return { kind: 'throttled', retryAfterS: Number.isFinite(after) && after > 0 ? after : null };
  }
  if (!res.ok) return { kind: 'unavailable', status: res.status };
  const body = (await res.json()) as { token?: unknown; agentId?: unknown; expiresAt?: unknown };
  if (typeof body.token !== 'string') return { kind: 'unavailable', status: res.status };
  return { kind: 'ok', token: body.token, agentId: typeof body.agentId === 'string' ? body.agentId : agentId, expiresAt: String(body.expiresAt ?? '') };
}
