#!/usr/bin/env bash
# Many networks at once: N LeNet-300-100s of the paper's recipe (maene_lenet_300_100_fashion: batch 60,
# Adam 1.2e-3, Fashion-MNIST) trained by `ticketlab lottery --replicates N --levels 0` as one stacked
# model (the default), against the same command with --networks-per-process 1 (N lone runs one after
# another, in one process: the same data loading and evaluation). The two sides run in turn (A B A B ...)
# in this one invocation; the table gives medians over ROUNDS:
# - training images/s over all N networks (the iterations alone: from each run's summary.json, the
#   images trained divided by the time spent in training steps; for the stack, the members share one clock);
# - images/s end to end (images trained / wall time of the whole command: start-up, data, evaluation);
# - each replicate's final test accuracy, stacked beside lone, and the spread over replicates.
# On a shared machine the figures are noisy: compare the sides of one round (the ratio column).
# Usage: bench/stacked-lenet.sh [ROUNDS=3] [NETWORKS=8] [THREADS=2] [SUBSET=12000] [EPOCHS=3]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
rounds=${1:-3}; networks=${2:-8}; threads=${3:-2}; subset=${4:-12000}; epochs=${5:-3}
cli=src/TicketLab.Cli/bin/Release/net10.0/TicketLab.Cli.dll
[ -f "$cli" ] || dotnet build -c Release src/TicketLab.Cli >/dev/null
source bench/stats.sh
scratch=$(mktemp -d); trap 'rm -rf "$scratch"' EXIT
echo "# $(date -u +%FT%TZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); $networks x maene_lenet_300_100_fashion, train subset $subset, $epochs epochs, $threads thread(s)"

# side NAME EXTRA-FLAGS...: one command into a fresh store; prints "training-images/s end-to-end-images/s accuracies..."
side() {
  local root="$scratch/$1-$RANDOM"; shift
  local start; start=$(date +%s.%N)
  dotnet "$cli" lottery --preset maene_lenet_300_100_fashion --replicates "$networks" --levels 0 --train-subset "$subset" \
    --training-steps "${epochs}ep" --threads "$threads" --root "$root" --quiet "$@" >/dev/null
  local wall; wall=$(echo "$(date +%s.%N) - $start" | bc -l)
  python3 - "$root" "$wall" <<'PY'
import glob, json, sys
root, wall = sys.argv[1], float(sys.argv[2])
runs = [json.load(open(f)) for f in sorted(glob.glob(root + "/lottery_*/replicate_*/level_0/main/summary.json"),
                                             key=lambda f: int(f.split("replicate_")[1].split("/")[0]))]
stacked = all("stacked" in s for f in glob.glob(root + "/lottery_*/replicate_*/level_0/main/provenance.json")
              for s in json.load(open(f))["sessions"])
images = [r["iterations"] * 60 for r in runs]
seconds = [i / r["images_per_second"] for i, r in zip(images, runs)]
# Stacked members train in the same steps: their clocks overlap, so the group's time is one member's (the longest).
training = max(seconds) if stacked else sum(seconds)
print(f"{sum(images) / training:.0f} {sum(images) / wall:.0f}", *[f"{r['final_test_accuracy']:.4f}" for r in runs])
PY
}

declare -a st lo
for ((r = 0; r < rounds; r++)); do
  st[r]=$(side stacked); lo[r]=$(side lone --networks-per-process 1)
  echo "  round $((r + 1)) (training img/s, end-to-end img/s, accuracies): stacked ${st[r]} | lone ${lo[r]}" >&2
done
col() { local i=$1; shift; for line in "$@"; do echo "$line" | awk -v i="$i" '{print $i}'; done; }
ratio_rounds() { local i=$1; for ((r = 0; r < rounds; r++)); do echo "$(col "$i" "${st[r]}") / $(col "$i" "${lo[r]}")" | bc -l; done; }
echo
echo "| measurement | stacked ($networks networks, one process) | $networks lone runs one after another | stacked / lone (median of round ratios) |"
echo "|---|---|---|---|"
printf '| training images/s, all networks | %s | %s | %.2f |\n' "$(col 1 "${st[@]}" | median)" "$(col 1 "${lo[@]}" | median)" "$(ratio_rounds 1 | median)"
printf '| images/s end to end (whole command) | %s | %s | %.2f |\n' "$(col 2 "${st[@]}" | median)" "$(col 2 "${lo[@]}" | median)" "$(ratio_rounds 2 | median)"
echo
echo "Final test accuracy per replicate (last round; seeds = replicate number on both sides):"
echo "| replicate | stacked | lone | stacked - lone |"
echo "|---|---|---|---|"
last=$((rounds - 1))
for ((n = 1; n <= networks; n++)); do
  a=$(col $((n + 2)) "${st[last]}"); b=$(col $((n + 2)) "${lo[last]}")
  printf '| %d | %.2f%% | %.2f%% | %+.2f |\n' "$n" "$(echo "100 * $a" | bc -l)" "$(echo "100 * $b" | bc -l)" "$(echo "100 * ($a - $b)" | bc -l)"
done
python3 - "${st[last]}" "${lo[last]}" <<'PY'
import sys
s = [float(x) for x in sys.argv[1].split()[2:]]; l = [float(x) for x in sys.argv[2].split()[2:]]
print(f"\nspread over replicates (max - min): stacked {100 * (max(s) - min(s)):.2f} points, lone {100 * (max(l) - min(l)):.2f} points; "
      f"largest |stacked - lone| of one replicate: {100 * max(abs(a - b) for a, b in zip(s, l)):.2f} points; "
      f"means {100 * sum(s) / len(s):.2f}% and {100 * sum(l) / len(l):.2f}%")
PY
