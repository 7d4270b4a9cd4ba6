#!/usr/bin/env bash
# `npm run lint`: formatting and lint rules for TypeScript/JavaScript (Biome, biome.json),
# formatting of the C++ (clang-format, .clang-format; Debian's clang-format-14), and the
# type-check of lib/ and test/ together (tsconfig.test.json). `npm run format` fixes what
# the formatters can.
set -euo pipefail
cd "$(dirname "$0")/.."

clang_format=$(command -v clang-format-14 || command -v clang-format || true)
if [[ -z "$clang_format" ]]; then
  echo "lint: clang-format not found (Debian: apt-get install clang-format-14)" >&2
  exit 1
fi
# native/core/zx_constants.h is generated (scripts/gen-native-constants.mjs): not formatted.
mapfile -t cxx < <(git ls-files 'native/*.cc' 'native/*.h' | grep -v '^native/core/zx_constants.h$')

if [[ "${1:-}" == "--fix" ]]; then
  npx biome check --write .
  "$clang_format" -i "${cxx[@]}"
  exit 0
fi
npx biome check .
"$clang_format" --dry-run --Werror "${cxx[@]}"
npx tsc -p tsconfig.test.json
