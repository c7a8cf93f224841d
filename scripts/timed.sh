#!/usr/bin/env bash
# usage: scripts/timed.sh "what is happening" COMMAND...
# Says what a set-up step is doing before it starts and how long it took when it ends (make run / make test).
set -uo pipefail
label="$1"; shift
start=$(date +%s)
echo "==> ${label} ..."
"$@"
code=$?
secs=$(( $(date +%s) - start ))
if [ "$code" -eq 0 ]; then echo "==> ${label}: done in ${secs} s"; else echo "==> ${label}: FAILED after ${secs} s (exit ${code})"; fi
exit "$code"
