// Adds up the JSON reports of every test run in a folder and prints the closing line
// "tests: N passed, N failed, N skipped". A missing or empty report counts as a failure,
// so a run that executed no test can never look green. Reports are vitest's (numPassedTests, ...)
// or Playwright's (stats.expected/unexpected/flaky/skipped, plus errors outside any test).
// Names after the folder are the reports that must be there (`unit` for unit.json): each one
// missing or empty counts as a failure, so a run that skipped a whole project shows.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2] ?? '.test-results';
const required = process.argv.slice(3);
let passed = 0;
let failed = 0;
let skipped = 0;
let reports = 0;
for (const name of required) {
  const file = join(dir, `${name}.json`);
  if (!existsSync(file) || statSync(file).size === 0) {
    console.log(`${name}: no report written`);
    failed += 1;
  }
}
for (const name of readdirSync(dir).filter((n) => n.endsWith('.json')).sort()) {
  if (statSync(join(dir, name)).size === 0) continue; // counted above when required
  const r = JSON.parse(readFileSync(join(dir, name), 'utf8'));
  reports += 1;
  if (r.stats && 'expected' in r.stats) {
    // Playwright: a flaky test passed on a retry (retries are 0 here, so it stays 0).
    passed += (r.stats.expected ?? 0) + (r.stats.flaky ?? 0);
    failed += (r.stats.unexpected ?? 0) + (r.errors?.length ?? 0);
    skipped += r.stats.skipped ?? 0;
    continue;
  }
  passed += r.numPassedTests ?? 0;
  failed += (r.numFailedTests ?? 0) + (r.numRuntimeErrorTestSuites ?? 0) ;
  skipped += (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  if ((r.numFailedTestSuites ?? 0) > 0 && (r.numFailedTests ?? 0) === 0) failed += r.numFailedTestSuites;
}
if (reports === 0 || passed === 0) failed += 1;
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 ? 1 : 0);
