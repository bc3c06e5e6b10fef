// ESLint flat config. The import-direction rules keep the layers of docs/architecture.md one-way:
// sip/ and media/ sit at the bottom and never import from the layers above them.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

const upper = ['api', 'calls', 'capture', 'handoff', 'providers', 'store', 'demo', 'webrtc', 'main'];
// The product never imports the development toolkit, the tests or the benches (server/devtools/,
// server/test/, server/bench/: docs/architecture.md, "Development toolkit").
const devBan = ['devtools', 'test', 'bench'].map((d) => ({
  group: [`**/${d}/*`, `**/${d}`],
  message: `server/src/ must not import from server/${d}/ (docs/architecture.md, "Development toolkit").`,
}));
// The composition root sits above every layer: only gateway.ts, main.ts and wiring/ itself import
// wiring/ or the gateway (docs/architecture.md, "Composition root").
const rootBan = [{
  group: ['**/wiring/*', '**/wiring', '**/gateway.js'],
  message: 'Only the composition root (server/src/gateway.ts, main.ts, wiring/) imports server/src/wiring/ or the gateway (docs/architecture.md, "Composition root").',
}];
const layerBan = (layers) => ({
  patterns: [
    ...layers.map((l) => ({
      group: [`**/${l}/*`, `**/${l}`, `**/${l}.js`],
      message: `Layer rule (docs/architecture.md): this layer must not import from ${l}/.`,
    })),
    ...devBan,
    ...rootBan,
  ],
});

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'e2e/artifacts/**', 'agent-widget/dist/**', 'server/dist/**', 'server/prompts/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node }, ecmaVersion: 2023, sourceType: 'module' },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    // Every server/src file: no dev tools, tests or benches (the layer blocks below add their own bans to these).
    files: ['server/src/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [...devBan, ...rootBan] }] },
  },
  {
    // The composition root itself: every layer, but no dev tools, tests or benches.
    files: ['server/src/gateway.ts', 'server/src/main.ts', 'server/src/wiring/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: devBan }] },
  },
  {
    // The development toolkit serves tests, e2e and benches; it imports none of them.
    files: ['server/devtools/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['test', 'bench'].map((d) => ({ group: [`**/${d}/*`, `**/${d}`], message: `server/devtools/ must not import from server/${d}/ (docs/architecture.md, "Development toolkit").` })) }],
    },
  },
  {
    // Benches import no test support: what they share with the tests is in server/devtools/.
    files: ['server/bench/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: ['**/test/*', '**/test'], message: 'Benches import no test support: use server/devtools/ (docs/architecture.md, "Development toolkit").' }] }] },
  },
  {
    files: ['server/src/sip/**/*.ts', 'server/src/sdp/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', layerBan([...upper, 'media'])] },
  },
  {
    files: ['server/src/media/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', layerBan([...upper, 'sip'])] },
  },
  {
    // webrtc/ may use media/ (RTP helpers, types), sdp/, lib/ and observability types; never the layers above it.
    files: ['server/src/webrtc/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', layerBan(['api', 'calls', 'capture', 'handoff', 'providers', 'store', 'demo', 'main'])] },
  },
  {
    files: ['server/src/capture/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', layerBan(['api', 'calls', 'media', 'sip', 'webrtc', 'main', 'demo'])] },
  },
  {
    files: ['server/src/providers/**/*.ts', 'server/src/handoff/**/*.ts', 'server/src/store/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', layerBan(['api', 'calls', 'capture', 'webrtc', 'main', 'media'])] },
  },
  {
    // outcomes/ (webhook, reconciliation) works on the bus, the store and the provider client: never on calls or media.
    files: ['server/src/outcomes/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', layerBan(['api', 'calls', 'media', 'sip', 'webrtc', 'demo', 'main'])] },
  },
  {
    files: ['server/src/config/**/*.ts', 'server/src/observability/**/*.ts', 'server/src/security/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', layerBan([...upper, 'sip', 'media', 'sdp'])] },
  },
  {
    files: ['agent-widget/src/**/*.ts'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{
          regex: '(^|/)server/(?!src/contract/events\\.js$)',
          message: 'The widget imports no server code but the wire contract, server/src/contract/events.ts.',
        }],
      }],
    },
  },
  {
    // The wire contract is a leaf: the widget bundles it, so it imports nothing at all.
    files: ['server/src/contract/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ regex: '.*', message: 'server/src/contract/ is a leaf module: no imports.' }] }] },
  },
);
