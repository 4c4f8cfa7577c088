#!/usr/bin/env bash
# `ticketlab train` LeNet-300-100 against the plain PyTorch loop (bench/peers/pytorch_lenet.py), in
# pairs: each round runs the two back to back and prints both medians of epochs 2..4 and the
# hypervisor's steal and the idle time (jiffies, /proc/stat) during each. On a VM whose speed flips
# between modes, compare the pairs in which both ran in the same mode (docs/performance.md, "LeNet
# with two threads on this machine").
# Usage: bench/lenet-pairs.sh [ROUNDS=10] [THREADS=2] [DATA=/usr/share/datasets/fashion-mnist]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
rounds=${1:-10}; threads=${2:-2}; data=${3:-/usr/share/datasets/fashion-mnist}
cli=src/TicketLab.Cli/bin/Release/net10.0/TicketLab.Cli.dll
[ -f "$cli" ] || dotnet build -c Release src/TicketLab.Cli >/dev/null
py=/usr/bin/python3
source bench/stats.sh
jiffies() { awk '/^cpu / {print $9, $5}' /proc/stat; } # steal, idle
for ((r = 1; r <= rounds; r++)); do
  root=$(mktemp -d); read -r s0 i0 < <(jiffies)
  dotnet "$cli" train --preset lenet_300_100 --training-steps 4ep --threads "$threads" --root "$root" --data-dir "$data" --quiet >/dev/null
  read -r s1 i1 < <(jiffies)
  t=$(epoch_seconds "$root")
  p=$($py bench/peers/pytorch_lenet.py "$data" "$threads" 4 | awk '/seconds per epoch/ {print $NF}')
  read -r s2 i2 < <(jiffies)
  echo "round $r: ticketlab $t (steal $((s1 - s0)) idle $((i1 - i0)))  pytorch $p (steal $((s2 - s1)) idle $((i2 - i1)))"
  rm -rf "$root"
done
