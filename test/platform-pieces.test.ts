// The calls Linux has and macOS lacks sit in one small platform piece each
// (docs/architecture.md, "Backends"): anywhere else in native/ they would break the macOS
// build or bypass the piece that stands in for them there.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const nativeDir = path.join(__dirname, '../native');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sources(full);
    return /\.(cc|h)$/.test(entry.name) ? [full] : [];
  });
}

// The code of a source, comments left out (they may name the calls).
function code(file: string): string {
  return readFileSync(file, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/\/\/.*$/gm, '');
}

// A call and the only files that may make it.
const pieces: { call: RegExp; only: string[] }[] = [
  { call: /\bepoll_(?:create1?|ctl|wait|pwait2?)\s*\(/, only: ['core/poller.cc'] },
  { call: /\bppoll\s*\(/, only: ['core/poller.cc'] },
  { call: /\btimerfd_(?:create|settime|gettime)\s*\(/, only: ['core/timer.cc'] },
];

describe('platform pieces', () => {
  for (const { call, only } of pieces) {
    it(`${call.source} is called only in ${only.join(', ')}`, () => {
      const callers = sources(nativeDir)
        .filter((file) => call.test(code(file)))
        .map((file) => path.relative(nativeDir, file));
      expect(callers.filter((file) => !only.includes(file))).toEqual([]);
    });
  }
});
