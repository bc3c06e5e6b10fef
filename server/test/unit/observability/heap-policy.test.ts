import { setFlagsFromString } from 'node:v8';
import { afterAll, describe, expect, it } from 'vitest';
import { applyHeapPolicy } from '../../../src/observability/heap-policy.js';
import { loadConfig } from '../../../src/config/load.js';
import { configProblems, yamlFiles } from '../config/config-problems.js';

describe('HEAP_GROWTH_PERCENT and HEAP_COMPACTION (docs/operations.md, Memory)', () => {
  // The flags are this test process's: V8's defaults again for the files that run after.
  afterAll(() => {
    setFlagsFromString('--heap-growing-percent=0');
    setFlagsFromString('--no-compact-on-every-full-gc');
  });

  it('default to 50 and false; the environment and the file keys runtime.* set them', () => {
    expect(loadConfig({})).toMatchObject({ HEAP_GROWTH_PERCENT: 50, HEAP_COMPACTION: false });
    expect(loadConfig({ HEAP_GROWTH_PERCENT: '0', HEAP_COMPACTION: 'true' })).toMatchObject({ HEAP_GROWTH_PERCENT: 0, HEAP_COMPACTION: true });
    const { file } = yamlFiles('heap');
    expect(loadConfig({ TONEGATE_CONFIG: file('runtime:\n  heapGrowthPercent: 25\n  heapCompaction: true\n') })).toMatchObject({ HEAP_GROWTH_PERCENT: 25, HEAP_COMPACTION: true });
  });

  it.each([
    ['HEAP_GROWTH_PERCENT', '-1'],
    ['HEAP_GROWTH_PERCENT', '301'],
    ['HEAP_GROWTH_PERCENT', '1.5'],
    ['HEAP_GROWTH_PERCENT', 'lots'],
    ['HEAP_COMPACTION', 'sometimes'],
  ])('%s=%s is refused, naming the variable', (name, bad) => {
    expect(configProblems({ [name]: bad })).toEqual([expect.stringMatching(new RegExp(`^${name}: `))]);
  });

  it.each<[number, boolean, string[]]>([
    [50, true, ['--heap-growing-percent=50', '--compact-on-every-full-gc']],
    [1, false, ['--heap-growing-percent=1']],
    [0, true, ['--compact-on-every-full-gc']],
    [0, false, []],
  ])('growth %d, compaction %s sets %j', (growthPercent, compactEveryGc, flags) => {
    expect(applyHeapPolicy({ growthPercent, compactEveryGc })).toEqual(flags);
  });

  it.each([-1, 2.5, Number.NaN])('growth %d is refused before V8 sees it', (bad) => {
    expect(() => applyHeapPolicy({ growthPercent: bad, compactEveryGc: false })).toThrow(RangeError);
  });
});
