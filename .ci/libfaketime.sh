#!/usr/bin/env bash
# Builds libfaketime (the C library, from the sources vendored in PyPI's `libfaketime` sdist) into
# .standins/faketime/ and prints the path of the shared object. Idempotent.
#
# Only the wall clock is faked: sleeps, timers, condition variables and the monotonic clock stay real
# (FAKE_SLEEP, FAKE_TIMERS and FAKE_PTHREAD are compiled out, FAKETIME_DONT_FAKE_MONOTONIC=1 at run time).
# Debian's build fakes those too, and Python's timed waits then hang or fail with EINVAL.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=3.0.1
OUT=.standins/faketime
SO="$OUT/libfaketime-wallclock.so.1"
if [ ! -f "$SO" ]; then
  mkdir -p "$OUT"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  python3 -m pip download -q --disable-pip-version-check --no-deps --no-binary :all: \
    "libfaketime==$VERSION" -d "$tmp" >&2
  tar xzf "$tmp"/libfaketime-$VERSION.tar.gz -C "$tmp"
  src="$tmp/libfaketime-$VERSION/libfaketime/vendor/libfaketime/src"
  sed -i 's/ -DFAKE_PTHREAD / /; s/ -DFAKE_SLEEP / /; s/ -DFAKE_TIMERS / /; s/ -DFAKE_STAT / /; s/ -DFAKE_UTIME / /' \
    "$src/Makefile"
  make -s -C "$src" libfaketime.so.1 >&2
  cp "$src/libfaketime.so.1" "$SO"
fi
echo "$PWD/$SO"
