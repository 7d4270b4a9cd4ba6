// Every code block of README.md and docs/*.md runs as written, against the built package
// (dist/) by its name, from a folder where `require('zircon-ipc')` resolves to it.
//
// The convention the documents follow:
//   ```js  a program: ESM (.mjs) when it has an `import` line, else CommonJS (.cjs); it must
//          exit 0 with nothing on stderr, and its stdout is exactly its `// prints: ...`
//          comments, one line each, in order (when it has any).
//          A block whose first line is `// file: NAME` is a second file (a child's script)
//          written under NAME beside the others of its document, and not run by itself.
//   ```sh, ```json, ``` (no language)  commands, data and diagrams: not run.
//   anything else, or a js fragment, is preceded by `<!-- not run: reason -->`.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = path.join(__dirname, '..');
const documents = [
  'README.md',
  ...readdirSync(path.join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

interface Block {
  document: string;
  line: number;
  lang: string;
  code: string;
  notRun: string | null;
}

function blocks(document: string): Block[] {
  const lines = readFileSync(path.join(root, document), 'utf8').split('\n');
  const found: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = lines[i].match(/^```(\S*)\s*$/);
    if (!open) continue;
    const start = i;
    while (++i < lines.length && lines[i] !== '```');
    let before = start - 1;
    while (before >= 0 && lines[before].trim() === '') before--;
    const marker = before >= 0 ? lines[before].match(/^<!-- not run: (.+) -->$/) : null;
    found.push({
      document,
      line: start + 1,
      lang: open[1],
      code: `${lines.slice(start + 1, i).join('\n')}\n`,
      notRun: marker ? marker[1] : null,
    });
  }
  return found;
}

const all = documents.flatMap(blocks);
const javascript = ['js', 'cjs', 'mjs'];
const notCode = ['sh', 'json', ''];
const helperName = (block: Block) => block.code.match(/^\/\/ file: (\S+)/)?.[1];
const programs = all.filter((b) => javascript.includes(b.lang) && !b.notRun && !helperName(b));

// One folder per document (its helper files beside its programs), all under one
// node_modules/zircon-ipc that is this repository.
const base = mkdtempSync(path.join(tmpdir(), 'zircon-ipc-snippets-'));
mkdirSync(path.join(base, 'node_modules'));
symlinkSync(root, path.join(base, 'node_modules', 'zircon-ipc'));
const folders = new Map<string, string>();
for (const document of documents) {
  const folder = path.join(base, document.replace(/[/.]/g, '-'));
  mkdirSync(folder);
  folders.set(document, folder);
  for (const block of all.filter((b) => b.document === document && !b.notRun && helperName(b))) {
    writeFileSync(path.join(folder, helperName(block)!), block.code);
  }
}

afterAll(() => rmSync(base, { recursive: true, force: true }));

function run(block: Block): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  const esm = block.lang === 'mjs' || /^import\s/m.test(block.code);
  const folder = folders.get(block.document)!;
  const file = path.join(folder, `line-${block.line}.${esm ? 'mjs' : 'cjs'}`);
  writeFileSync(file, block.code);
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [file],
      { cwd: folder, timeout: 20_000, killSignal: 'SIGKILL' },
      (error, stdout, stderr) => {
        const failure = error as { code?: number; signal?: string } | null;
        resolve({ code: failure ? (failure.code ?? null) : 0, signal: failure?.signal ?? null, stdout, stderr });
      },
    );
  });
}

describe('documentation snippets', () => {
  it('finds the snippets (README.md and docs/ have runnable ones)', () => {
    expect(programs.filter((b) => b.document === 'README.md').length).toBeGreaterThanOrEqual(4);
    expect(programs.filter((b) => b.document !== 'README.md').length).toBeGreaterThanOrEqual(3);
  });

  it('every block is a program, a helper file, a command, data or a diagram, or says why it is not run', () => {
    const unexplained = all
      .filter((b) => !b.notRun && !javascript.includes(b.lang) && !notCode.includes(b.lang))
      .map((b) => `${b.document}:${b.line} (${b.lang})`);
    expect(unexplained).toEqual([]);
  });

  it.each(programs.map((b) => [`${b.document}:${b.line}`, b] as const))('%s runs as written', async (_name, block) => {
    const { code, signal, stdout, stderr } = await run(block);
    expect({ code, signal, stderr }).toEqual({ code: 0, signal: null, stderr: '' });
    const prints = [...block.code.matchAll(/\/\/ prints: (.*)$/gm)].map((m) => m[1]);
    if (prints.length > 0) expect(stdout).toBe(prints.map((line) => `${line}\n`).join(''));
  });
});
