#!/usr/bin/env bash
# The issue-5 conv-net figure on a CPU: rewind sweep of resnet_20 on a Fashion-MNIST subset for
# the standard recipe (lr 0.1) and the warmup recipe (lr 0.03, linear warmup), both shortened to
# fit a laptop: 2000 training examples, batch 64, 10 epochs (320 iterations), warmup 100it,
# barriers measured on the first 2000 test examples at 11 points.
# Usage: bench/rewind-sweep-resnet.sh [ROOT] [THREADS]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=${1:-${TMPDIR:-/tmp}/ticketlab-rewind-sweep}
threads=${2:-2}
dotnet build src/TicketLab.Cli -c Release -v q -nologo >/dev/null
cli=(dotnet src/TicketLab.Cli/bin/Release/net10.0/TicketLab.Cli.dll)
common=(--dataset-name fashion_mnist --train-subset 2000 --batch-size 64 --training-steps 10ep --milestone-steps none
        --steps 0it,20it,80it,160it --points 11 --test-examples 2000 --no-epoch-eval --root "$root" --threads "$threads" --quiet)
start=$(date +%s)
"${cli[@]}" rewind-sweep --preset resnet_20 "${common[@]}" --json > "$root.standard.json"
echo "standard recipe: $(( $(date +%s) - start )) s"
"${cli[@]}" rewind-sweep --preset resnet_20_warmup --warmup-steps 100it "${common[@]}" --json > "$root.warmup.json"
echo "both recipes: $(( $(date +%s) - start )) s"
