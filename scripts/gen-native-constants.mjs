#!/usr/bin/env node
// Generates native/core/zx_constants.h from lib/constants.ts (the single source of
// truth for Zircon constants).
//
//   node scripts/gen-native-constants.mjs          write the header
//   node scripts/gen-native-constants.mjs --check  exit 1 if the header on disk is stale
//
// Every line `export const ZX_… = <literal>;` or `export const PA_… = <literal>;`
// becomes one `constexpr` in the header. Types: int32_t for ZX_OK and ZX_ERR_*,
// int64_t for bigint literals (the time constants), uint32_t for everything else.
// Lines `// --- title ---` become section comments.

import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SOURCE = join(ROOT, 'lib', 'constants.ts');
const TARGET = join(ROOT, 'native', 'core', 'zx_constants.h');

const DECL = /^export const ((?:ZX|PA)_[A-Z0-9_]+) = (-?(?:0x[0-9A-Fa-f]+|\d+)n?);$/;
const CANDIDATE = /^export const (?:ZX|PA)_/;
const SECTION = /^\/\/ --- (.+) ---$/;

const INT32_MIN = -(2n ** 31n);
const UINT32_MAX = 2n ** 32n - 1n;
const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);

/** Parses a JS integer literal (decimal or hex, optional sign, optional `n`) into a bigint. */
function literalValue(literal) {
  const negative = literal.startsWith('-');
  const digits = literal.replace(/^-/, '').replace(/n$/, '');
  const magnitude = BigInt(digits); // BigInt() accepts "0x…" but not "-0x…"
  return negative ? -magnitude : magnitude;
}

/** One `constexpr` line for a constant, or throws if the value does not fit its type. */
function constexprLine(name, literal, where) {
  const value = literalValue(literal);
  const isBigint = literal.endsWith('n');
  const isStatus = name === 'ZX_OK' || name.startsWith('ZX_ERR_');
  const fail = (why) => {
    throw new Error(`${where}: ${name} = ${literal}: ${why}`);
  };

  if (isBigint) {
    if (isStatus) fail('a status must be a number, not a bigint');
    if (value > INT64_MAX || value < INT64_MIN) fail('out of int64 range');
    let expr;
    if (value === INT64_MAX) expr = 'INT64_MAX';
    else if (value === INT64_MIN) expr = '(-INT64_MAX - 1)';
    else expr = `INT64_C(${value})`;
    return `constexpr int64_t ${name} = ${expr};`;
  }
  if (isStatus) {
    if (/x/i.test(literal)) fail('statuses are written as decimal literals');
    if (value > 0n || value < INT32_MIN) fail('a status must be 0 or a negative int32');
    return `constexpr int32_t ${name} = ${literal};`;
  }
  if (value < 0n) fail('only statuses may be negative');
  if (value > UINT32_MAX) fail('out of uint32 range');
  const isHex = /^0x/i.test(literal);
  return `constexpr uint32_t ${name} = ${isHex ? `${literal}u` : literal};`;
}

/** Builds the whole header text from the text of lib/constants.ts. */
function generateHeader(sourceText) {
  const source = relative(ROOT, SOURCE);
  const out = [
    '// Generated from lib/constants.ts by scripts/gen-native-constants.mjs — do not edit.',
    '// Run `node scripts/gen-native-constants.mjs` after changing lib/constants.ts.',
    '#pragma once',
    '',
    '#include <cstdint>',
  ];
  const seen = new Set();
  let count = 0;

  sourceText.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    const where = `${source}:${index + 1}`;
    const section = SECTION.exec(line);
    if (section) {
      out.push('', `// ${section[1]}`);
      return;
    }
    const decl = DECL.exec(line);
    if (!decl) {
      if (CANDIDATE.test(line)) {
        throw new Error(`${where}: not of the form \`export const NAME = <integer literal>;\`: ${line}`);
      }
      return;
    }
    const [, name, literal] = decl;
    if (seen.has(name)) throw new Error(`${where}: ${name} declared twice`);
    seen.add(name);
    out.push(constexprLine(name, literal, where));
    count++;
  });

  if (count === 0) throw new Error(`${source}: no constants found`);
  return { text: `${out.join('\n')}\n`, count };
}

function main(argv) {
  const check = argv.includes('--check');
  const { text, count } = generateHeader(readFileSync(SOURCE, 'utf8'));
  const target = relative(ROOT, TARGET);

  if (check) {
    let current = null;
    try {
      current = readFileSync(TARGET, 'utf8');
    } catch {
      // missing: reported below
    }
    if (current !== text) {
      console.error(
        `${target} is ${current === null ? 'missing' : 'out of date with lib/constants.ts'}; ` +
          'run `node scripts/gen-native-constants.mjs`',
      );
      process.exit(1);
    }
    console.log(`${target} is up to date (${count} constants)`);
    return;
  }

  mkdirSync(dirname(TARGET), { recursive: true });
  writeFileSync(TARGET, text);
  console.log(`wrote ${target} (${count} constants)`);
}

try {
  main(process.argv.slice(2));
} catch (err) {
  console.error(`gen-native-constants: ${err.message}`);
  process.exit(1);
}
