import { describe, expect, it } from 'vitest';
import { applyHeapGrowth } from '../../../src/observability/heap-growth.js';
import { loadConfig } from '../../../src/config/load.js';
import { configProblems, yamlFiles } from '../config/config-problems.js';

describe('HEAP_GROWTH_PERCENT (docs/operations.md, Memory)', () => {
  it('defaults to 50; the environment and the file key runtime.heapGrowthPercent set it', () => {
    expect(loadConfig({}).HEAP_GROWTH_PERCENT).toBe(50);
    expect(loadConfig({ HEAP_GROWTH_PERCENT: '0' }).HEAP_GROWTH_PERCENT).toBe(0);
    const { file } = yamlFiles('heap');
    expect(loadConfig({ TONEGATE_CONFIG: file('runtime:\n  heapGrowthPercent: 25\n') }).HEAP_GROWTH_PERCENT).toBe(25);
  });

  it.each(['-1', '301', '1.5', 'lots'])('%s is refused, naming the variable', (bad) => {
    expect(configProblems({ HEAP_GROWTH_PERCENT: bad })).toEqual([expect.stringMatching(/^HEAP_GROWTH_PERCENT: /)]);
  });

  it.each<[number, string | undefined]>([
    [50, '--heap-growing-percent=50'],
    [1, '--heap-growing-percent=1'],
    [0, undefined],
  ])('%d sets %s', (percent, flag) => {
    expect(applyHeapGrowth(percent)).toBe(flag);
  });

  it.each([-1, 2.5, Number.NaN])('%d is refused before V8 sees it', (bad) => {
    expect(() => applyHeapGrowth(bad)).toThrow(RangeError);
  });
});
