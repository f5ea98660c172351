#!/usr/bin/env bash
# Prints what failed in a `go test` log, shortly: each failing test with the
# first lines of its first message, and each panic's line (a timeout is one),
# so that the end of a long run shows why it failed. The whole log stays in
# the file.
# usage: tests/failed.sh LOG
set -euo pipefail
log=$1
grep -q -e '--- FAIL' -e '^panic: ' "$log" || exit 0
echo "=== what failed (the whole log: $log)"
awk '
  /^ *--- FAIL: / { print; want = 1; shown = 0; next }
  /^panic: / { print; next }
  want && /^ +[A-Za-z0-9_]+\.go:[0-9]+: / { print; shown = 1; next }
  shown && /^        / && shown < 4 { print; shown++; next }
  { want = 0; shown = 0 }
' "$log" | cut -c1-240
