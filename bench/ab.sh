#!/usr/bin/env bash
# A/B: the same steerdns benchmark (bench/run.sh) on two commits, alternating, on one
# machine in one sitting, so that the ratio between them survives a noisy machine.
#
# Usage:  bash bench/ab.sh BEFORE [AFTER] [ROUNDS]     (AFTER defaults to HEAD, ROUNDS to 3)
#         VARIANTS="steerdns-static steerdns-gslb" DURATION=10 REPS=2 bash bench/ab.sh 8548581
#
# Each commit is checked out into a worktree under $AB_DIR (default /tmp/steerdns-ab),
# sharing this checkout's node_modules, and bundled there (scripts/bundle.mjs); then the
# rounds run before, after, before, after ... with bench/run.sh's own quiet and noise
# guards (no latency or scale part). Results: bench/results/ab-<stamp>/<label>-<round>/ and
# a summary table of server CPU per query (µs) per variant on standard output and in
# summary.md. Removes the worktrees at the end.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
BEFORE=${1:?usage: bench/ab.sh BEFORE [AFTER] [ROUNDS]}
AFTER=${2:-HEAD}
ROUNDS=${3:-3}
VARIANTS=${VARIANTS:-steerdns-static steerdns-gslb}
AB_DIR=${AB_DIR:-/tmp/steerdns-ab}
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT=$HERE/results/ab-$STAMP
mkdir -p "$OUT" "$AB_DIR"

trees=()
cleanup() {
  for tree in "${trees[@]}"; do git -C "$ROOT" worktree remove --force "$tree" > /dev/null 2>&1 || true; done
}
trap cleanup EXIT

prepare() { # label rev -> prints the worktree path
  local tree=$AB_DIR/$1-$STAMP
  git -C "$ROOT" worktree add --detach --force "$tree" "$2" > /dev/null 2>&1
  ln -s "$ROOT/node_modules" "$tree/node_modules"
  (cd "$tree" && node scripts/bundle.mjs > /dev/null)
  echo "$tree"
}

before_tree=$(prepare before "$BEFORE")
trees+=("$before_tree")
after_tree=$(prepare after "$AFTER")
trees+=("$after_tree")
{
  echo "before: $BEFORE = $(git -C "$ROOT" rev-parse --short "$BEFORE")"
  echo "after:  $AFTER = $(git -C "$ROOT" rev-parse --short "$AFTER")"
  echo "variants: $VARIANTS; rounds: $ROUNDS; DURATION=${DURATION:-15} REPS=${REPS:-3}"
} | tee "$OUT/notes.txt"

for round in $(seq 1 "$ROUNDS"); do
  for label in before after; do
    tree=$before_tree
    [ "$label" = after ] && tree=$after_tree
    # shellcheck disable=SC2086 # VARIANTS is a list of words
    SCALE=0 LAT_QPS=0 QSETS=${QSETS:-www} OUT="$OUT/$label-$round" \
      bash "$tree/bench/run.sh" $VARIANTS > "$OUT/$label-$round.log" 2>&1
  done
done

# Server CPU per query (column 12 of results.tsv), the median of each side's reps.
node - "$OUT" "$ROUNDS" $VARIANTS << 'JS' | tee "$OUT/summary.md"
const [out, rounds, ...variants] = process.argv.slice(2);
const fs = require('node:fs');
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const cpu = (label, variant) => {
  const values = [];
  for (let r = 1; r <= Number(rounds); r++) {
    const rows = fs.readFileSync(`${out}/${label}-${r}/results.tsv`, 'utf8').trim().split('\n').slice(1);
    for (const row of rows) { const c = row.split('\t'); if (c[0] === variant && c[11] !== 'NA') values.push(Number(c[11])); }
  }
  return values;
};
console.log('| variant | before µs/query (median, all runs) | after µs/query (median, all runs) | after / before |');
console.log('| --- | --- | --- | --- |');
for (const v of variants) {
  const b = cpu('before', v), a = cpu('after', v);
  const mb = median(b), ma = median(a);
  console.log(`| ${v} | ${mb.toFixed(2)} (${b.map((x) => x.toFixed(1)).join(', ')}) | ${ma.toFixed(2)} (${a.map((x) => x.toFixed(1)).join(', ')}) | ${(ma / mb).toFixed(3)} |`);
}
JS
