/** Child-process entry for fuzz.test.ts (run under tsx): runs one share of the property. */
import { runFuzz } from './fuzz-property.js';

const [runs, seed] = process.argv.slice(2).map(Number);
process.send?.(runFuzz(runs ?? 0, seed ?? 0), () => process.exit(0));
