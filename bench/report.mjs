// Turns the samples of a run into medians, ratios and target verdicts, and renders them as
// markdown and as an SVG bar chart (hand-built, no dependency).
//   node bench/report.mjs [bench/results/latest.json]   re-renders latest.md and latest.svg
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BASELINE, CASES, IMPLS, caseById, implById } from './config.mjs';

const median = (sorted) => {
  const m = sorted.length >> 1;
  return sorted.length % 2 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2;
};

// MB/s (10^6 bytes a second) for cases that move payload.
function megabytesPerSecond(c, value) {
  if (!c.bytes) return null;
  return c.unit === 'ms' ? c.bytes / (value / 1000) / 1e6 : (value * c.bytes) / 1e6;
}

// How many times faster `a` is than `b` (two values of case c).
const speedup = (c, a, b) => (c.better === 'lower' ? b / a : a / b);

// The median over repetitions of f(r's value, other's value), each pair from one repetition:
// a ratio compares two sessions run seconds apart, not the medians of two whole runs, so a
// change in the machine's load between repetitions moves both sides of it alike.
function paired(r, other, f) {
  const ratios = [];
  for (let i = 0; i < r.values.length; i++) {
    const a = r.values[i];
    const b = other.values[i];
    if (a !== null && a !== undefined && b !== null && b !== undefined) ratios.push(f(a, b));
  }
  return ratios.length ? median(ratios.sort((x, y) => x - y)) : null;
}

export function analyze(raw) {
  const results = [];
  for (const c of CASES) {
    for (const pinned of c.pinned ? [false, true] : [false]) {
      for (const impl of IMPLS) {
        const values = raw.samples?.[`${c.id}|${impl.id}|${pinned}`];
        const sorted = (values ?? []).filter((v) => v !== null).sort((a, b) => a - b);
        if (!sorted.length) continue;
        const r = {
          case: c.id,
          impl: impl.id,
          pinned,
          unit: c.unit,
          values,
          median: median(sorted),
          min: sorted[0],
          max: sorted.at(-1),
        };
        const mbps = megabytesPerSecond(c, r.median);
        if (mbps !== null) r.mbps = mbps;
        results.push(r);
      }
    }
  }
  const get = (caseId, impl, pinned) =>
    results.find((r) => r.case === caseId && r.impl === impl && r.pinned === pinned);
  const best = (c, pinned, family) => {
    const candidates = results.filter(
      (r) => r.case === c.id && r.pinned === pinned && implById[r.impl].family === family,
    );
    if (!candidates.length) return null;
    return candidates.reduce((x, y) => (speedup(c, x.median, y.median) >= 1 ? x : y));
  };
  const timeRatio = (a, b) => a / b;
  for (const r of results) {
    const c = caseById[r.case];
    const impl = implById[r.impl];
    const faster = (a, b) => speedup(c, a, b);
    // Against raw C: a time ratio (lower is better) or a fraction of the rate (higher is better).
    // vsBase: against the one baseline of the chart and tables; vsC: against the baseline the
    // targets name for this implementation.
    const base = r.impl === BASELINE ? null : get(r.case, BASELINE, r.pinned);
    const baseRatio = base ? paired(r, base, timeRatio) : null;
    if (baseRatio !== null) r.vsBase = { baseline: BASELINE, ratio: baseRatio };
    const target = impl.baseline ? get(r.case, impl.baseline, r.pinned) : null;
    const targetRatio = target ? paired(r, target, timeRatio) : null;
    if (targetRatio !== null) r.vsC = { baseline: target.impl, ratio: targetRatio };
    const node = best(c, r.pinned, 'node');
    const vsNode = node ? paired(r, node, faster) : null;
    if (vsNode !== null) r.vsNode = { best: node.impl, speedup: vsNode };
    const worker = r.impl === 'worker' ? null : get(r.case, 'worker', r.pinned);
    const vsWorker = worker ? paired(r, worker, faster) : null;
    if (vsWorker !== null) r.vsWorker = { speedup: vsWorker };
  }
  const report = { ...raw, results, verdicts: verdicts(results, get) };
  delete report.samples;
  return report;
}

function verdicts(_results, get) {
  const out = [];
  const add = (target, impl, caseId, goal, measure) => {
    for (const pinned of caseById[caseId].pinned ? [false, true] : [false]) {
      const r = get(caseId, impl, pinned);
      const m = r && measure(r);
      if (m === null || m === undefined) continue;
      out.push({ target, impl, case: caseId, pinned, ...m, goal, pass: m.pass });
    }
  };
  const ratioAtMost = (limit) => (r) =>
    r.vsC && {
      value: r.vsC.ratio,
      display: `${fmtRatio(r.vsC.ratio)} ${short(r.vsC.baseline)}`,
      pass: r.vsC.ratio <= limit,
    };
  const shareAtLeast = (limit) => (r) =>
    r.vsC && {
      value: r.vsC.ratio,
      display: `${fmtPercent(r.vsC.ratio)} of ${short(r.vsC.baseline)}`,
      pass: r.vsC.ratio >= limit,
    };
  add('sync round trip ≤ 1.25× raw C blocking', 'zx-sync', 'rtt', '≤ 1.25×', ratioAtMost(1.25));
  for (const impl of ['zx-async', 'zx-events', 'zx-sys-async']) {
    add('async round trip ≤ 1.5× raw C epoll', impl, 'rtt', '≤ 1.5×', ratioAtMost(1.5));
    add(
      'async round trip ≥ 1.2× faster than every cross-process Node alternative',
      impl,
      'rtt',
      '≥ 1.2×',
      (r) =>
        r.vsNode && {
          value: r.vsNode.speedup,
          display: `${fmtRatio(r.vsNode.speedup)} vs ${short(r.vsNode.best)}`,
          pass: r.vsNode.speedup >= 1.2,
        },
    );
    add(
      '… and than the in-process worker',
      impl,
      'rtt',
      '≥ 1.2×',
      (r) =>
        r.vsWorker && {
          value: r.vsWorker.speedup,
          display: `${fmtRatio(r.vsWorker.speedup)} vs worker`,
          pass: r.vsWorker.speedup >= 1.2,
        },
    );
  }
  add('batched one-way 16 B ≥ 1.5× raw C (one sendmsg a message)', 'zx-sync', 'batch16', '≥ 150%', shareAtLeast(1.5));
  for (const impl of ['zx-sync', 'zx-async', 'zx-events', 'zx-sys-async']) {
    add('one-way 16 B ≥ 80% of raw C msg/s', impl, 'oneway16', '≥ 80%', shareAtLeast(0.8));
    add('one-way 64 KiB ≥ 85% of raw C MB/s', impl, 'oneway64k', '≥ 85%', shareAtLeast(0.85));
    add('1 descriptor a message ≥ 70% of raw C', impl, 'fds1', '≥ 70%', shareAtLeast(0.7));
    add('64 descriptors a message ≥ 70% of raw C', impl, 'fds64', '≥ 70%', shareAtLeast(0.7));
  }
  return out;
}

// ---- formatting ------------------------------------------------------------------------------

const short = (id) => implById[id]?.short ?? id;
const fmtRatio = (x) => `${x >= 10 ? x.toFixed(1) : x.toFixed(2)}×`;
const fmtPercent = (x) => `${Math.round(x * 100)}%`;

export function fmtValue(value, unit) {
  if (unit === 'µs') return value >= 100 ? value.toFixed(0) : value.toFixed(1);
  if (unit === 'ms') return value >= 100 ? value.toFixed(0) : value.toFixed(2);
  if (unit === 'MB/s') return value >= 100 ? value.toFixed(0) : value.toFixed(1);
  if (value >= 1e6) return `${(value / 1e6).toFixed(2)}M`;
  if (value >= 1e3) return `${(value / 1e3).toFixed(value >= 1e5 ? 0 : 1)}k`;
  return value.toFixed(0);
}

// The ratio to the baseline as the targets phrase it: a time as "n×", a rate as "n%".
function fmtVsBase(r) {
  if (!r.vsBase) return '—';
  return caseById[r.case].better === 'lower' ? fmtRatio(r.vsBase.ratio) : fmtPercent(r.vsBase.ratio);
}

// Speed relative to the baseline: 1 = as fast, higher is better (what the chart draws).
const relativeSpeed = (r) => (caseById[r.case].better === 'lower' ? 1 / r.vsBase.ratio : r.vsBase.ratio);

const fmtRelative = (rel) => (rel >= 0.995 ? rel.toFixed(2) : rel.toFixed(2).replace(/^0/, ''));

const machineLine = (report) =>
  `${report.machine.cpu}, ${report.machine.cores} cores, ${report.machine.memoryGiB} GiB · ${report.kernel} · Node ${report.node}`;

const caseTitle = (caseId, pinned) => `${caseById[caseId].title}${pinned ? ', pinned' : ''}`;

export function renderMarkdown(report) {
  const { results } = report;
  const impls = IMPLS.filter((i) => results.some((r) => r.impl === i.id));
  const get = (caseId, impl, pinned) =>
    results.find((r) => r.case === caseId && r.impl === impl && r.pinned === pinned);
  const lines = [];
  lines.push(`# zircon-ipc benchmark (${report.mode} mode)`, '');
  lines.push(
    `${machineLine(report)}` +
      `${report.compiler ? ` · ${report.compiler}` : ''} · revision ${report.revision ?? 'unknown'} · ${report.date}`,
    '',
  );
  if (report.addon)
    lines.push(
      `Addon: ${report.addon.path} (sha256 ${report.addon.sha256}…, built ${report.addon.built}). CPUs busy before the run: ${Math.round((report.busyBefore ?? 0) * 100)}%.`,
      '',
    );
  const longer = Object.entries(report.method.caseWarmMs ?? {}).map(
    ([id, ms]) => `${ms} ms for ${caseById[id]?.title ?? id}`,
  );
  lines.push(
    `${report.method.repetitions} repetitions, interleaved; ${report.method.warmMs} ms warm-up (${report.method.firstWarmMs} ms for a session's first case` +
      `${longer.map((l) => `, ${l}`).join('')}) and a ${report.method.windowMs} ms ` +
      `window a case; medians, min–max in the JSON and the last table. "pinned": both processes on CPU 0. The run took ${report.durationS} s.`,
    '',
  );
  if (report.mode !== 'full') {
    lines.push(
      'A quick run: fewer repetitions and shorter windows than the full run the README quotes; `npm run bench -- --agree` ' +
        'says how far the two are apart on this machine (docs/performance.md, "Quick and full").',
      '',
    );
  }
  if (report.errors?.length) lines.push(`**Errors:** ${report.errors.length} session(s) failed; see latest.json.`, '');

  lines.push('## Medians', '');
  lines.push(`| case | unit | ${impls.map((i) => i.short).join(' | ')} |`);
  lines.push(`|---|---|${impls.map(() => '---:').join('|')}|`);
  const row = (title, unit, pick) =>
    lines.push(`| ${title} | ${unit} | ${impls.map((i) => pick(i.id) ?? '—').join(' | ')} |`);
  for (const c of CASES) {
    for (const pinned of c.pinned ? [false, true] : [false]) {
      row(caseTitle(c.id, pinned), c.unit, (impl) => {
        const r = get(c.id, impl, pinned);
        return r && fmtValue(r.median, c.unit);
      });
      if (c.bytes && c.bytes >= 1024) {
        row(caseTitle(c.id, pinned), 'MB/s', (impl) => {
          const r = get(c.id, impl, pinned);
          return r && fmtValue(r.mbps, 'MB/s');
        });
      }
    }
  }
  lines.push('');

  lines.push('## Targets', '');
  lines.push('| target | zircon-ipc | case | measured | verdict |', '|---|---|---|---|---|');
  for (const v of report.verdicts) {
    lines.push(
      `| ${v.target} | ${short(v.impl)} | ${v.pinned ? 'pinned' : 'unpinned'} | ${v.display} | ${v.pass ? '✅ met' : '❌ missed'} |`,
    );
  }
  lines.push('');

  lines.push('## Every figure', '');
  lines.push(
    `Against ${short(BASELINE)} (raw C, the one baseline of every ratio here and of the chart; the targets above name ` +
      'their own): a time as a multiple of its time (lower is better), a rate as a share of its rate. Against Node: how many ' +
      'times faster than the best cross-process Node alternative (IPC json, IPC advanced, net), and than the in-process worker. ' +
      'Every ratio is the median over repetitions of the ratio within one repetition.',
    '',
  );
  lines.push(
    `| case | implementation | median | min–max | vs ${short(BASELINE)} | vs best Node | vs worker |`,
    '|---|---|---:|---:|---:|---:|---:|',
  );
  for (const c of CASES) {
    for (const pinned of c.pinned ? [false, true] : [false]) {
      for (const impl of impls) {
        const r = get(c.id, impl.id, pinned);
        if (!r) continue;
        const mb = r.mbps !== undefined ? ` (${fmtValue(r.mbps, 'MB/s')} MB/s)` : '';
        lines.push(
          `| ${caseTitle(c.id, pinned)} | ${impl.short} | ${fmtValue(r.median, c.unit)} ${c.unit}${mb} | ` +
            `${fmtValue(r.min, c.unit)}–${fmtValue(r.max, c.unit)} | ${fmtVsBase(r)} | ` +
            `${r.vsNode && r.impl !== r.vsNode.best ? `${fmtRatio(r.vsNode.speedup)} (${short(r.vsNode.best)})` : '—'} | ` +
            `${r.vsWorker ? fmtRatio(r.vsWorker.speedup) : '—'} |`,
        );
      }
    }
  }
  lines.push('');
  return `${lines.join('\n')}`;
}

// ---- SVG ------------------------------------------------------------------------------------

const COLORS = {
  'c-block': '#5b5b5b',
  'zx-sync': '#1f4e9e',
  'zx-async': '#3b7dd8',
  'zx-events': '#2a9fb8',
  'zx-sys-async': '#86b5f0',
  'zx-sync-portable': '#6a3d9a',
  'zx-async-portable': '#b08fd6',
  'node-json': '#d9822b',
  'node-advanced': '#a85d12',
  'net-unix': '#3f9c55',
  worker: '#9a9a9a',
};

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Horizontal bars: each implementation's speed relative to the one baseline (1 = as fast). */
export function renderSvg(report) {
  const { results } = report;
  const shown = IMPLS.filter((i) => i.id !== BASELINE && results.some((r) => r.impl === i.id));
  const groups = [];
  for (const c of CASES) {
    for (const pinned of c.pinned ? [false, true] : [false]) {
      const bars = [];
      for (const impl of shown) {
        const r = results.find((x) => x.case === c.id && x.impl === impl.id && x.pinned === pinned);
        if (r?.vsBase) bars.push({ impl: impl.id, rel: relativeSpeed(r) });
      }
      if (bars.length) groups.push({ title: caseTitle(c.id, pinned), bars });
    }
  }
  const left = 190;
  const plotWidth = 560;
  const maxRel = Math.max(1.25, ...groups.flatMap((g) => g.bars.map((b) => Math.min(b.rel, 2))));
  const x = (rel) => left + (Math.min(rel, maxRel) / maxRel) * plotWidth;
  const barH = 11;
  const gap = 2;
  const groupGap = 14;
  const top = 96;
  let y = top;
  const body = [];
  for (const g of groups) {
    const h = g.bars.length * (barH + gap);
    body.push(`<text x="${left - 8}" y="${y + h / 2 + 4}" text-anchor="end" class="case">${esc(g.title)}</text>`);
    for (const b of g.bars) {
      const w = Math.max(1, x(b.rel) - left);
      body.push(
        `<rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${COLORS[b.impl]}"><title>${esc(implById[b.impl].label)}: ${b.rel.toFixed(3)} of ${esc(implById[BASELINE].label)}</title></rect>`,
      );
      body.push(`<text x="${(left + w + 4).toFixed(1)}" y="${y + barH - 2}" class="val">${fmtRelative(b.rel)}</text>`);
      y += barH + gap;
    }
    y += groupGap;
  }
  const height = y + 24;
  const grid = [];
  for (let t = 0; t <= maxRel + 1e-9; t += 0.25) {
    grid.push(
      `<line x1="${x(t)}" y1="${top - 6}" x2="${x(t)}" y2="${y - groupGap}" class="${t === 1 ? 'one' : 'grid'}"/>`,
    );
    grid.push(`<text x="${x(t)}" y="${y - groupGap + 14}" text-anchor="middle" class="axis">${t.toFixed(2)}</text>`);
  }
  const legend = shown.map((impl, i) => {
    const lx = 20 + (i % 4) * 200;
    const ly = 34 + Math.floor(i / 4) * 16;
    return `<rect x="${lx}" y="${ly - 9}" width="10" height="10" fill="${COLORS[impl.id]}"/><text x="${lx + 14}" y="${ly}" class="legend">${esc(impl.short)}</text>`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="820" height="${height}" viewBox="0 0 820 ${height}" font-family="sans-serif">
<style>
  .title { font-size: 14px; font-weight: bold; }
  .case { font-size: 11px; fill: #222; }
  .val { font-size: 9px; fill: #333; }
  .axis, .legend { font-size: 10px; fill: #444; }
  .grid { stroke: #e3e3e3; stroke-width: 1; }
  .one { stroke: #c0392b; stroke-width: 1.5; stroke-dasharray: 4 2; }
</style>
<rect width="100%" height="100%" fill="white"/>
<text x="20" y="18" class="title">Speed relative to ${esc(short(BASELINE))} (${esc(implById[BASELINE].label)} over SOCK_SEQPACKET; 1.00 = as fast, higher is better)</text>
<text x="20" y="${top - 20}" class="axis">${esc(report.mode)} run of ${esc(report.revision ?? 'an unknown revision')} · ${esc(machineLine(report))} · ${esc(report.date.slice(0, 10))}</text>
${legend.join('\n')}
${grid.join('\n')}
${body.join('\n')}
<text x="${left}" y="${height - 4}" class="axis">every bar against ${esc(short(BASELINE))} in the same repetition; medians of ${report.method.repetitions} repetitions; bars past ${maxRel.toFixed(2)} are cut</text>
</svg>
`;
}

// ---- README ----------------------------------------------------------------------------------

const README_BEGIN = '<!-- bench:begin -->';
const README_END = '<!-- bench:end -->';
const CHART_URL = 'https://raw.githubusercontent.com/zircon-ipc/zircon-ipc/main/bench/results/latest.svg';
const RESULTS_URL = 'https://github.com/zircon-ipc/zircon-ipc/blob/main/bench/results/latest.md';
const METHOD_URL = 'https://github.com/zircon-ipc/zircon-ipc/blob/main/docs/performance.md#method';

/** The README's figures: the chart, the machine and the run it comes from, and the chart's
 *  numbers as a table (the baseline's own median in its column). */
export function renderReadmeBlock(report) {
  const { results } = report;
  const impls = IMPLS.filter((i) => results.some((r) => r.impl === i.id));
  const get = (caseId, impl, pinned) =>
    results.find((r) => r.case === caseId && r.impl === impl && r.pinned === pinned);
  const lines = [
    README_BEGIN,
    '<!-- written by `npm run bench` (bench/report.mjs renderReadmeBlock); edits here are overwritten -->',
    '',
  ];
  lines.push(`![zircon-ipc against raw C and Node's alternatives](${CHART_URL})`, '');
  lines.push(
    `A ${report.mode} run of revision \`${report.revision ?? 'unknown'}\` on ${report.date.slice(0, 10)}: ${machineLine(report)}; ` +
      `${report.method.repetitions} repetitions, CPUs ${Math.round((report.busyBefore ?? 0) * 100)}% busy before the run. ` +
      `Each figure is an implementation's speed relative to ${short(BASELINE)} (${implById[BASELINE].label}; 1.00 = as fast, higher is better), ` +
      `the median over repetitions of the two measured in the same repetition; the ${short(BASELINE)} column is its own median. ` +
      `"pinned": both processes on one CPU. Every value: [bench/results/latest.md](${RESULTS_URL}); method: ` +
      `[docs/performance.md](${METHOD_URL}).`,
    '',
  );
  lines.push(`| case | ${impls.map((i) => i.short).join(' | ')} |`, `|---|${impls.map(() => '---:').join('|')}|`);
  for (const c of CASES) {
    for (const pinned of c.pinned ? [false, true] : [false]) {
      if (!impls.some((i) => get(c.id, i.id, pinned))) continue;
      const cells = impls.map((i) => {
        const r = get(c.id, i.id, pinned);
        if (!r) return '—';
        if (i.id === BASELINE) return `${fmtValue(r.median, c.unit)} ${c.unit}`;
        return r.vsBase ? fmtRelative(relativeSpeed(r)) : '—';
      });
      lines.push(`| ${caseTitle(c.id, pinned)} | ${cells.join(' | ')} |`);
    }
  }
  lines.push('', README_END);
  return lines.join('\n');
}

/** `text` (README.md) with the figures between its markers replaced; null without markers. */
export function replaceReadmeBlock(text, report) {
  const begin = text.indexOf(README_BEGIN);
  const end = text.indexOf(README_END);
  if (begin < 0 || end < begin) return null;
  return text.slice(0, begin) + renderReadmeBlock(report) + text.slice(end + README_END.length);
}

// ---- quick against full -----------------------------------------------------------------------

/** Every relative speed of the quick run against the full run's: the difference as a share of
 *  the full figure, the largest of them, and whether all are within `limit`. */
export function compareRuns(quick, full, limit) {
  const rows = [];
  for (const f of full.results) {
    if (!f.vsBase) continue;
    const q = quick.results.find((r) => r.case === f.case && r.impl === f.impl && r.pinned === f.pinned);
    if (!q?.vsBase) continue;
    const diff = relativeSpeed(q) / relativeSpeed(f) - 1;
    rows.push({
      title: caseTitle(f.case, f.pinned),
      impl: f.impl,
      quick: relativeSpeed(q),
      full: relativeSpeed(f),
      diff,
    });
  }
  const worst = Math.max(0, ...rows.map((r) => Math.abs(r.diff)));
  const pass = rows.length > 0 && worst <= limit;
  const run = (r) =>
    `${r.mode}: ${r.method.repetitions} repetitions, ${r.method.warmMs} ms warm-up (${r.method.firstWarmMs} ms first), ` +
    `${r.method.windowMs} ms window, ${r.durationS} s, CPUs ${Math.round((r.busyBefore ?? 0) * 100)}% busy before, load ${r.loadAverage.before}→${r.loadAverage.after}`;
  const lines = [
    `# Quick against full (${full.date.slice(0, 16)}, revision ${full.revision ?? 'unknown'})`,
    '',
    machineLine(full),
    '',
    `- ${run(quick)}`,
    `- ${run(full)}`,
    '',
    `Speed relative to ${short(BASELINE)} in each run, and the quick figure's difference from the full one (limit ±${Math.round(limit * 100)}%).`,
    '',
    '| case | implementation | quick | full | difference |',
    '|---|---|---:|---:|---:|',
  ];
  for (const r of rows) {
    const mark = Math.abs(r.diff) > limit ? ' ❌' : '';
    lines.push(
      `| ${r.title} | ${short(r.impl)} | ${fmtRelative(r.quick)} | ${fmtRelative(r.full)} | ${r.diff >= 0 ? '+' : ''}${Math.round(r.diff * 100)}%${mark} |`,
    );
  }
  const outside = rows.filter((r) => Math.abs(r.diff) > limit).length;
  lines.push(
    '',
    `${rows.length} figures; ${outside} outside ±${Math.round(limit * 100)}%; the largest difference ${Math.round(worst * 100)}%: ` +
      `${pass ? 'quick and full agree' : 'quick and full DO NOT agree'}.`,
    '',
  );
  return { markdown: lines.join('\n'), worst, pass, rows };
}

/** Writes the figures into README.md (at `root`) if `report` is a complete full run; says
 *  what it did. */
export function updateReadme(report, root) {
  if (report.mode !== 'full' || report.only || report.errors?.length) {
    return 'README.md left alone: its figures come from a complete full run (every implementation, no errors)';
  }
  const path = join(root, 'README.md');
  const updated = replaceReadmeBlock(readFileSync(path, 'utf8'), report);
  if (updated === null) return 'README.md has no bench:begin / bench:end markers: its figures were left alone';
  writeFileSync(path, updated);
  return 'updated the figures in README.md';
}

/** A saved report analysed again (ratios, verdicts) from the values it kept; with `keep`,
 *  only the repetitions i for which keep(i) holds. */
export function reanalyze(report, keep = () => true) {
  const samples = {};
  for (const r of report.results)
    samples[`${r.case}|${r.impl}|${r.pinned}`] = r.values.map((v, i) => (keep(i) ? v : null));
  const raw = { ...report, samples };
  delete raw.results;
  delete raw.verdicts;
  return analyze(raw);
}

// Re-render from a saved report: latest.md, latest.svg and, for a full run, README.md's figures.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const here = dirname(fileURLToPath(import.meta.url));
  const path = process.argv[2] ?? join(here, 'results', 'latest.json');
  const report = reanalyze(JSON.parse(readFileSync(path, 'utf8')));
  const dir = dirname(path);
  writeFileSync(path, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(dir, 'latest.md'), renderMarkdown(report));
  writeFileSync(join(dir, 'latest.svg'), renderSvg(report));
  console.log(updateReadme(report, dirname(here)));
}
