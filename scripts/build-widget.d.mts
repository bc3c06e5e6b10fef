/** Types of build-widget.mjs (imported by the e2e global setup). */
export function buildWidget(options?: { force?: boolean; quiet?: boolean }): Promise<{ built: boolean }>;
