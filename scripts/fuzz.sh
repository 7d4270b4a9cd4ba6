#!/usr/bin/env bash
# Fuzzes the record parser and the receive path (native/core/wire_format_fuzzer.cc) with
# libFuzzer for FUZZ_SECONDS (60 by default): `npm run fuzz [-- libFuzzer options]`.
# Needs clang with its fuzzer runtime (Debian: clang and libclang-rt-14-dev).
# Starts from the seeds in native/core/fuzz-seeds/; what it finds besides them stays in
# build-fuzz/corpus/ for the next run. A crash, a sanitizer report, a leaked descriptor or
# handle stops it: the input that did it is written to build-fuzz/ and the run fails.
set -euo pipefail
cd "$(dirname "$0")/.."
out=build-fuzz
seconds=${FUZZ_SECONDS:-60}
mkdir -p "$out/corpus" "$out/obj"

started=$SECONDS
# The core (it has no N-API) and the target, one compiler per core.
flags="-std=c++17 -g -O1 -fno-omit-frame-pointer -Inative"
# Without vptr: its check opens a pipe, which fails while an input leaves the process
# without descriptors (and the addon is built without RTTI anyway).
sanitize="-fsanitize=fuzzer,address,undefined -fno-sanitize=vptr -fno-sanitize-recover=all"
compile() { clang++ -c $flags $sanitize "$1" -o "$out/obj/$(basename "$1" .cc).o"; }
export -f compile
export flags sanitize out
rm -f "$out"/obj/*.o
printf '%s\n' native/core/*.cc | nice xargs -P "$(nproc)" -n 1 bash -c 'compile "$0"'
clang++ $sanitize "$out"/obj/*.o -o "$out/wire_format_fuzzer"
echo "fuzz: built in $((SECONDS - started)) s"

export ASAN_OPTIONS=detect_leaks=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
# The seeds are replayed first; new inputs go to the first directory only.
"$out/wire_format_fuzzer" "$out/corpus" native/core/fuzz-seeds \
  -max_total_time="$seconds" -timeout=10 -max_len=4096 -artifact_prefix="$out/" \
  -print_final_stats=1 "$@"
