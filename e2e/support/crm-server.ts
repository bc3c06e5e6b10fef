import { createServer, type Server } from 'node:http';

/**
 * A stand-in CRM: a real HTTP server on 127.0.0.1 whose page frames the agent widget and prefills
 * it by postMessage once the widget says `tonegate:ready`. Real, not routed: Chromium treats a
 * routed page as public and refuses to let it frame 127.0.0.1 (Local Network Access).
 * `http://localhost:<port>` is the allowed CRM origin; `http://127.0.0.1:<port>` is another origin.
 */
export function crmPage(widgetUrl: string): string {
  const target = JSON.stringify(new URL(widgetUrl).origin);
  return `<!doctype html><meta charset="utf-8"><title>CRM</title><h1>CRM</h1>
<iframe id="w" src="${widgetUrl}" width="420" height="900" allow="microphone"></iframe>
<script>
  window.addEventListener('message', (e) => {
    if (e.origin !== ${target} || !e.data || e.data.type !== 'tonegate:ready') return;
    document.getElementById('w').contentWindow.postMessage({ type: 'tonegate:prefill', payment: {
      amount: '999.00', currency: 'INR', orderRef: 'CRM-42', customerMobile: '+919800000002', merchantId: 'M-CRM' } }, ${target});
  });
</script>`;
}

export async function startCrm(widgetUrl: () => string): Promise<{ server: Server; port: number }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(crmPage(widgetUrl()));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.address();
  return { server, port: typeof a === 'object' && a ? a.port : 0 };
}
