/** What the gateway tells the pages about itself (`GET /api/widget-config`, server/src/api/static.ts). */
export interface WidgetConfig {
  sipHost: string;
  sipPath: string;
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
