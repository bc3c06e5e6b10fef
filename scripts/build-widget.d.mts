/** Types of build-widget.mjs (imported by the e2e global setup and server/test/integration/agents-widget-cluster.test.ts). */
export function buildWidget(options?: { force?: boolean; quiet?: boolean }): Promise<{ built: boolean }>;
