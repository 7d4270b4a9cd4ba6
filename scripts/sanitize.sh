#!/usr/bin/env bash
# The test suite against the addon built with AddressSanitizer and UndefinedBehaviorSanitizer
# (gcc). `npm run test:sanitize [-- vitest arguments]`.
#
# The addon is built in build-sanitize/ (build/ is left as it is) and loaded from there
# through node-gyp-build's ZIRCON_IPC_PREBUILD variable, which every process the suite
# starts inherits, with the ASan runtime preloaded (Node itself is not instrumented).
# Sanitizer reports go to files: any report, from the test process or from any child,
# fails the run, even when the test around it passed.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=$root/build-sanitize

# node-gyp builds in ./build of the directory it runs in: give it one with binding.gyp
# (a copy: gyp would resolve a link to the original and build beside it) and the sources.
mkdir -p "$out"
cp binding.gyp "$out/binding.gyp"
ln -sfn ../native "$out/native"
sanitize="-fsanitize=address,undefined -fno-sanitize-recover=all"
flags="$sanitize -fno-omit-frame-pointer -g"
# make rebuilds what changed since the last run, and everything when the flags change.
(cd "$out" && npx node-gyp configure --silent)
(cd "$out" && CFLAGS="$flags" CXXFLAGS="$flags" LDFLAGS="$sanitize" nice npx node-gyp build -j max --silent)
npm run --silent build:ts

export ZIRCON_IPC_PREBUILD=$out
addon=$(node -p "require('node-gyp-build').path('.')")
if [[ $addon != "$out/build/Release/zircon_ipc.node" || $(ldd "$addon") != *libasan* ]]; then
  echo "sanitize: the addon node-gyp-build resolves is not the sanitized one: $addon" >&2
  exit 1
fi

logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
asan_runtime=$(gcc -print-file-name=libasan.so)
# detect_leaks=0: Node does not free everything at exit. handle_segv=0, handle_sigbus=0:
# tests make children die of SIGSEGV and SIGBUS on purpose (docs/objects.md, VMOs) and
# check the signal; a fault elsewhere still kills its process, which fails its test.
# quarantine_size_mb: freed memory ASan holds back counts in RSS, which channel-call-async.test.ts
# bounds after a warm-up that fills a quarantine of this size (not the default 256 MiB).
export ASAN_OPTIONS="detect_leaks=0:handle_segv=0:handle_sigbus=0:allow_user_segv_handler=1:quarantine_size_mb=16:log_path=$logs/asan"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$logs/ubsan"

status=0
started=$SECONDS
LD_PRELOAD=$asan_runtime "$root/node_modules/.bin/vitest" run "$@" || status=$?
echo "sanitize: suite took $((SECONDS - started)) s under ASan+UBSan"

if compgen -G "$logs/*" >/dev/null; then
  for report in "$logs"/*; do
    echo "==== sanitizer report: $(basename "$report")" >&2
    cat "$report" >&2
  done
  status=1
fi
exit $status
