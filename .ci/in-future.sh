#!/usr/bin/env bash
# usage: .ci/in-future.sh MOMENT COMMAND...
# Runs COMMAND with every process's wall clock moved to MOMENT (ISO 8601 with offset, e.g.
# 2031-03-15T22:50:00+00:00) and MANTRA_TEST_NOW naming the same moment, so the suites prove they pass on any
# date: pytest, DynamoDB Local (Java), kinesalite (Node), moto server, the SMTP sink and the Stripe stand-in all
# inherit the preload. The clock then runs on from MOMENT at its normal rate.
set -euo pipefail
moment=$1
shift
so=$("$(dirname "$0")/libfaketime.sh")
start=$(python3 -c 'import sys, datetime as d; t = d.datetime.fromisoformat(sys.argv[1]); assert t.tzinfo, "MOMENT needs an offset"; print(t.astimezone(d.UTC).strftime("@%Y-%m-%d %H:%M:%S"))' "$moment")
echo "== wall clock moved to $moment for: $*" >&2
exec env TZ=UTC LD_PRELOAD="$so" FAKETIME="$start" FAKETIME_DONT_FAKE_MONOTONIC=1 MANTRA_TEST_NOW="$moment" "$@"
