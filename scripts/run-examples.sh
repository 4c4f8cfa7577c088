#!/usr/bin/env bash
# Runs every C# script in examples/ (.NET 10 file-based apps using the TicketLab library by
# project reference) and checks that each printed what it promises, after checking that the code
# README.md shows of them is their text. Needs Fashion-MNIST
# (scripts/install-deps.sh). About a minute on two cores, most of it building.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
fail() { echo "run-examples: $*" >&2; exit 1; }
check() { grep -qE "$2" "$1" || { cat "$1" >&2; fail "$1 lacks: $2"; }; }
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT

# README.md shows examples' code verbatim: the fenced block after a line <!-- snippet: FILE -->
# (or <!-- snippet: FILE lines A-B -->) must be FILE's text (its lines A to B), so they cannot drift.
grep -q '^<!-- snippet: examples/train-prune-rewind-retrain.cs[ -]' README.md \
  || fail "README.md lacks the <!-- snippet: examples/train-prune-rewind-retrain.cs --> block"
while IFS= read -r marker; do
  spec=${marker#<!-- snippet: }; spec=${spec% -->}
  file=${spec%% *}; range='1,$'
  if [[ $spec == *" lines "* ]]; then range=${spec##* lines }; range=${range/-/,}; fi
  [[ -f $file && $range =~ ^[0-9]+,([0-9]+|\$)$ ]] || fail "README.md: '$marker' names no file or a bad line range"
  awk -v marker="$marker" '
    $0 == marker { state = 1; next }
    state == 1 { if ($0 ~ /^```/) { state = 2; next } exit }
    state == 2 { if ($0 == "```") exit; print }' README.md > "$out/snippet"
  diff -u --label "$spec" <(sed -n "${range}p" "$file") --label "README.md after $marker" "$out/snippet" >&2 \
    || fail "README.md's snippet of $file is not the file's text (diff above): copy the file into README.md"
  echo "== README.md shows $file as it is ($(wc -l < "$out/snippet") lines)"
done < <(grep '^<!-- snippet: ' README.md)

for example in examples/*.cs; do
  name=$(basename "$example" .cs)
  echo "== $example ($(grep -cv '^\s*$' "$example") non-blank lines)"
  start=$SECONDS
  dotnet run "$example" > "$out/$name.out" 2> "$out/$name.err" || { tail -30 "$out/$name.err" >&2; fail "$example failed"; }
  cat "$out/$name.out"
  echo "   ($((SECONDS - start)) s)"
done
check "$out/train-prune-rewind-retrain.out" '^level 3: 51\.[0-9] ?% of weights, test accuracy [0-9.]+ ?%$'
check "$out/interpolate.out" '^error barrier -?[0-9.]+ ?% '
echo "run-examples: ok"
