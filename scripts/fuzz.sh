#!/usr/bin/env bash
# Fuzzes with libFuzzer: the record parser and the receive path
# (native/core/wire_format_fuzzer.cc) for FUZZ_SECONDS (60 by default), then DATAGRAM
# socket ends on a stream (native/core/datagram_frames_fuzzer.cc) for
# DATAGRAM_FUZZ_SECONDS (20 by default): `npm run fuzz [-- libFuzzer options]`.
# Needs clang with its fuzzer runtime (Debian: clang and libclang-rt-14-dev).
# Each starts from its seeds, in native/core/fuzz-seeds/ and fuzz-seeds-datagram/; what it
# finds besides them stays in build-fuzz/ (corpus/, corpus-datagram/) for the next run. A crash, a sanitizer report, a leaked descriptor or
# handle stops it: the input that did it is written to build-fuzz/ and the run fails.
set -euo pipefail
cd "$(dirname "$0")/.."
out=build-fuzz
seconds=${FUZZ_SECONDS:-60}
datagram_seconds=${DATAGRAM_FUZZ_SECONDS:-20}
mkdir -p "$out/corpus" "$out/corpus-datagram" "$out/obj"

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
# Each target links the core with its own entry point (the other target's left out).
core=$(ls "$out"/obj/*.o | grep -v '_fuzzer\.o$')
for target in wire_format_fuzzer datagram_frames_fuzzer; do
  clang++ $sanitize $core "$out/obj/$target.o" -o "$out/$target"
done
echo "fuzz: built in $((SECONDS - started)) s"

export ASAN_OPTIONS=detect_leaks=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
# The seeds are replayed first; new inputs go to the first directory only.
"$out/wire_format_fuzzer" "$out/corpus" native/core/fuzz-seeds \
  -max_total_time="$seconds" -timeout=10 -max_len=4096 -artifact_prefix="$out/" \
  -print_final_stats=1 "$@"
"$out/datagram_frames_fuzzer" "$out/corpus-datagram" native/core/fuzz-seeds-datagram \
  -max_total_time="$datagram_seconds" -timeout=10 -max_len=4096 -artifact_prefix="$out/" \
  -print_final_stats=1 "$@"
