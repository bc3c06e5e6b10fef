#!/usr/bin/env bash
# `npm test`: every test, in the order of docs/architecture.md practice 15:
# system deps -> node deps -> lint -> typecheck -> unit -> integration -> e2e.
# Ends with one summary line "tests: N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")/.."

bash scripts/ensure-system-deps.sh || exit 1
if [[ ! -d node_modules || package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund || exit 1
fi

out=.test-results
rm -rf "$out" && mkdir -p "$out"
status=0

echo "== lint";      npx eslint . || status=1
echo "== typecheck"; npx tsc --noEmit -p tsconfig.json || status=1
npx tsc --noEmit -p agent-widget/tsconfig.json || status=1

# integration: files beside each other; integration-serial: the timing-sensitive ones, alone
# (vitest.config.ts says which and why).
# Peers a test started and did not stop would load the host for the next (timing-sensitive)
# project: name them.
peers='sipp|sip-tester|redis-server|kamailio|chrom|baresip|svwar|svcrack|svmap'
before=$(pgrep -d, -f "$peers" || true)
for project in unit integration integration-serial; do
  echo "== $project tests"
  npx vitest run --project "$project" --reporter=default --reporter=json \
    --outputFile.json="$out/$project.json" || status=1
  left=$(pgrep -a -f "$peers" | grep -v -E "^(${before//,/|}) " | grep -v pgrep || true)
  [[ -z "$left" ]] || printf 'left running after %s tests:\n%s\n' "$project" "$left"
done

# Real Chromium against a real gateway; global setup builds the widget first.
echo "== e2e tests"
E2E_JSON="$PWD/$out/e2e.json" npx playwright test -c e2e/playwright.config.ts || status=1
[[ -s "$out/e2e.json" ]] || { echo "e2e: no report written"; status=1; }

node scripts/summarize-tests.mjs "$out" unit integration integration-serial e2e || status=1
exit $status
