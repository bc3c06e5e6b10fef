/** What the gateway tells the pages about itself (`GET /api/widget-config`, server/src/api/static.ts). */
export interface WidgetConfig {
  sipHost: string;
  sipPath: string;
  /** The agents' SIP WebSocket URL when the gateway has SIP_WS_URL (a proxy such as Kamailio); absent: `sipPath` here. */
  sipWsUrl?: string;
  eventsPath: string;
  loginPath: string;
  embedOrigins: readonly string[];
  demo: boolean;
  /** Prompt languages the Pay by phone form offers (absent from an older gateway: English only). */
  languages?: readonly string[];
  defaultLanguage?: string;
}

export async function loadWidgetConfig(): Promise<WidgetConfig> {
  const res = await fetch('/api/widget-config', { headers: { accept: 'application/json' } });
  if (!res.ok) throw new Error(`widget-config: HTTP ${res.status}`);
  return (await res.json()) as WidgetConfig;
}

/** `ws://host/sip` (or wss: on https) on the page's own host. */
export function socketUrl(path: string): string {
  return `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}${path}`;
}

/**
 * Where the agent's SIP WebSocket (RFC 7118) goes: the gateway's SIP_WS_URL when it gives one
 * (agents behind a proxy in front of several gateways, README "Agents across instances"), else
 * `sipPath` on the page's own host. Only ws:/wss: is taken; the page's CSP allows nothing else.
 */
export function sipSocketUrl(config: Pick<WidgetConfig, 'sipPath' | 'sipWsUrl'>): string {
  const url = config.sipWsUrl;
  return url && /^wss?:\/\//i.test(url) ? url : socketUrl(config.sipPath);
}
