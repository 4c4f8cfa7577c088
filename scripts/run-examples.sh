#!/usr/bin/env bash
# Runs every C# script in examples/ (.NET 10 file-based apps using the TicketLab library by
# project reference) and checks that each printed what it promises. Needs Fashion-MNIST
# (scripts/install-deps.sh). About a minute on two cores, most of it building.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
fail() { echo "run-examples: $*" >&2; exit 1; }
check() { grep -qE "$2" "$1" || { cat "$1" >&2; fail "$1 lacks: $2"; }; }
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
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
