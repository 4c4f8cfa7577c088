#!/usr/bin/env bash
# The cost of the run manifest's checks (issue 22): wall time of `ticketlab list` over a store of
# 200 runs and of one LeNet-300-100 lottery level, before (a build without manifests) and after (this
# build), interleaved, median of N rounds.
# Usage: bench/integrity-cost.sh BEFORE_CLI_DLL [AFTER_CLI_DLL] [ROUNDS]
#   BEFORE_CLI_DLL: TicketLab.Cli.dll of a build before manifests (e.g. a copy of commit 7678c6a's build)
#   AFTER_CLI_DLL:  default: the Release build of src/TicketLab.Cli
set -eu
cd "$(dirname "${BASH_SOURCE[0]}")/.."
before=${1:?give the TicketLab.Cli.dll of a build before manifests}
after=${2:-src/TicketLab.Cli/bin/Release/net10.0/TicketLab.Cli.dll}
rounds=${3:-5}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT

# 200 runs in one process each: 4 replicates x 50 levels (levels 0-49), tiny training.
store_flags=(--preset lenet_300_100 --train-subset 500 --training-steps 1it --pruning-fraction 0.05 --threads 1 --quiet --no-epoch-eval)
for side in before after; do
  cli=$before; [ $side = after ] && cli=$after
  dotnet "$cli" lottery --root "$work/store-$side" "${store_flags[@]}" --levels 49 --replicates 4 >/dev/null 2>&1
  echo "store-$side: $(find "$work/store-$side" -name hparams.json | wc -l) runs" >&2
done

# A LeNet-300-100 level: level 0 trained once per side; each round times level 1 on a fresh copy.
level_flags=(--preset lenet_300_100 --train-subset 10000 --training-steps 2ep --threads 1 --quiet)
for side in before after; do
  cli=$before; [ $side = after ] && cli=$after
  dotnet "$cli" lottery --root "$work/level-$side" "${level_flags[@]}" --levels 0 >/dev/null 2>&1
done

seconds() { local start=$(date +%s.%N); "$@" >/dev/null 2>&1; local code=$?; local end=$(date +%s.%N); echo "$end - $start" | bc; return $code; }
declare -A list_times level_times
for round in $(seq "$rounds"); do
  for side in before after; do
    cli=$before; [ $side = after ] && cli=$after
    list_times[$side]+="$(seconds dotnet "$cli" list --root "$work/store-$side") "
    rm -rf "$work/copy"; cp -r "$work/level-$side" "$work/copy"
    level_times[$side]+="$(seconds dotnet "$cli" lottery --root "$work/copy" "${level_flags[@]}" --levels 1) "
  done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR % 2 ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2)}'; }
printf '| measure | before (s) | after (s) | after / before |\n|---|---|---|---|\n'
for measure in list level; do
  if [ $measure = list ]; then b=$(echo "${list_times[before]}" | median); a=$(echo "${list_times[after]}" | median); name="list, 200 runs"
  else b=$(echo "${level_times[before]}" | median); a=$(echo "${level_times[after]}" | median); name="LeNet-300-100 lottery level 1 (10,000 examples, 2 epochs)"; fi
  printf '| %s | %.2f | %.2f | %.3f |\n' "$name" "$b" "$a" "$(echo "$a / $b" | bc -l)"
done
echo "rounds: $rounds, interleaved; list times: before ${list_times[before]}; after ${list_times[after]}" >&2
echo "level times: before ${level_times[before]}; after ${level_times[after]}" >&2
