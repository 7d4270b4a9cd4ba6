// bench/report.mjs turns a benchmark run's samples into the figures the README and the chart
// show. Checked on made-up samples (no benchmark runs here): every figure has one baseline,
// ratios pair the values of one repetition, the README's block is written only from a
// complete full run, and the quick/full comparison flags a figure outside the limit.
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain ES module without types
import { BASELINE } from '../bench/config.mjs';
// @ts-expect-error: a plain ES module without types
import { analyze, compareRuns, renderSvg, replaceReadmeBlock, updateReadme } from '../bench/report.mjs';

interface Result {
  case: string;
  impl: string;
  pinned: boolean;
  vsBase?: { baseline: string; ratio: number };
  vsC?: { baseline: string; ratio: number };
}

const machine = { cpu: 'Test CPU @ 1 GHz', cores: 2, memoryGiB: 4 };
const run = (mode: string, samples: Record<string, (number | null)[]>, extra: object = {}) =>
  analyze({
    mode,
    date: '2026-01-02T03:04:05.000Z',
    machine,
    kernel: 'Linux 6.1.0',
    node: 'v20.0.0',
    revision: 'abc1234',
    busyBefore: 0,
    loadAverage: { before: 0, after: 0 },
    method: { repetitions: 5, warmMs: 1, firstWarmMs: 1, windowMs: 1 },
    errors: [],
    samples,
    ...extra,
  });

// Round trips in µs; the machine's load changes in repetition 3 (everything twice as slow).
const drifting = {
  'rtt|c-block|false': [8, 8, 16, 16, 16],
  'rtt|c-epoll|false': [10, 10, 20, 20, 20],
  'rtt|zx-sync|false': [12, 12, 24, 24, 24],
  'rtt|zx-async|false': [20, 20, 40, 40, 40],
};

describe('bench report', () => {
  it('compares every implementation with the one baseline, C epoll, in the same repetition', () => {
    expect(BASELINE).toBe('c-epoll');
    const report = run('full', {
      ...drifting,
      // A change of load that a ratio of medians would take for a 4× slowdown.
      'oneway16|c-epoll|false': [400, 400, 400, 100, 100],
      'oneway16|zx-async|false': [200, 200, 50, 50, 50],
    });
    const ratios = Object.fromEntries(
      report.results
        .filter((r: Result) => r.vsBase)
        .map((r: Result) => [`${r.case} ${r.impl}`, [r.vsBase?.baseline, r.vsBase?.ratio]]),
    );
    expect(ratios).toEqual({
      'rtt c-block': ['c-epoll', 0.8],
      'rtt zx-sync': ['c-epoll', 1.2],
      'rtt zx-async': ['c-epoll', 2],
      'oneway16 zx-async': ['c-epoll', 0.5],
    });
    // The targets keep the baseline they name: the sync face's is C blocking.
    expect(report.results.find((r: Result) => r.impl === 'zx-sync').vsC).toEqual({ baseline: 'c-block', ratio: 1.5 });
    const svg: string = renderSvg(report);
    expect(svg).toContain('Speed relative to C epoll (raw C, epoll over SOCK_SEQPACKET;');
    expect(svg).not.toContain('against C blocking');
    // One bar per implementation and case; the baseline has none.
    expect(svg.match(/<rect x="190"/g)).toHaveLength(4);
    expect(svg).toContain('<title>raw C, blocking: 1.250 of raw C, epoll</title>');
  });

  it("writes the README's figures from a complete full run only, with the machine it ran on", () => {
    const readme = 'intro\n<!-- bench:begin -->\nold figures\n<!-- bench:end -->\nrest\n';
    const full = run('full', drifting);
    const text: string = replaceReadmeBlock(readme, full);
    expect(text.startsWith('intro\n<!-- bench:begin -->\n')).toBe(true);
    expect(text.endsWith('\n<!-- bench:end -->\nrest\n')).toBe(true);
    expect(text).not.toContain('old figures');
    expect(text).toContain(
      'A full run of revision `abc1234` on 2026-01-02: Test CPU @ 1 GHz, 2 cores, 4 GiB · Linux 6.1.0 · Node v20.0.0;',
    );
    expect(text).toContain('| Round trip, 16 B | 1.25 | 20.0 µs | .83 | .50 |');
    expect(replaceReadmeBlock('no markers\n', full)).toBeNull();
    // Not from a quick run, a partial one, or one with errors (updateReadme writes nothing then).
    expect(updateReadme(run('quick', drifting), '/nonexistent')).toMatch(/^README.md left alone/);
    expect(updateReadme(run('full', drifting, { only: ['zx-sync'] }), '/nonexistent')).toMatch(/^README.md left alone/);
    expect(updateReadme(run('full', drifting, { errors: ['x'] }), '/nonexistent')).toMatch(/^README.md left alone/);
  });

  it('says whether quick and full agree within the limit on every figure', () => {
    const full = run('full', drifting);
    const close = run('quick', { ...drifting, 'rtt|zx-async|false': [22, 22, 44, 44, 44] });
    const far = run('quick', { ...drifting, 'rtt|zx-async|false': [30, 30, 60, 60, 60] });
    const agree = compareRuns(close, full, 0.15);
    expect(agree.pass).toBe(true);
    expect(agree.worst).toBeCloseTo(1 - 1 / 1.1, 9);
    const disagree = compareRuns(far, full, 0.15);
    expect(disagree.pass).toBe(false);
    expect(disagree.markdown).toContain('| Round trip, 16 B | zx async | .33 | .50 | -33% ❌ |');
  });
});
