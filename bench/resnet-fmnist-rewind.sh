#!/usr/bin/env bash
# Issue 9's ResNet-20 question at CPU scale: on a Fashion-MNIST subset, with the standard recipe
# (lr 0.1) and the warmup recipe (lr 0.03, linear warmup over half of training; Frankle et al. 2020),
# is training stable at initialization (instability, 2 replicates), and does IMP rewound to
# initialization keep the dense accuracy for 5 levels (2 replicates)? Resumable: run it again to continue.
# Usage: bench/resnet-fmnist-rewind.sh ROOT standard|warmup [CLI...]
set -euo pipefail
root=$1; recipe=$2; shift 2
if [ $# -gt 0 ]; then cli=("$@"); else cli=(dotnet "$(dirname "$0")/../src/TicketLab.Cli/bin/Release/net10.0/TicketLab.Cli.dll"); fi
# Test evaluation of ResNet-20 costs ~30 s per 10,000 images on one CPU thread: evaluate at the end
# only, and interpolate on 2,000 test images at 15 points.
common=(--dataset-name fashion_mnist --train-subset 1500 --training-steps 6ep --milestone-steps 3ep,5ep --root "$root" --threads 1 --quiet --no-epoch-eval)
interpolation=(--points 15 --test-examples 2000)
case $recipe in
  standard) flags=(--preset resnet_20 "${common[@]}") ;;
  warmup)   flags=(--preset resnet_20_warmup "${common[@]}" --warmup-steps 3ep) ;;
  *) echo "recipe: standard or warmup" >&2; exit 2 ;;
esac
"${cli[@]}" instability "${flags[@]}" "${interpolation[@]}" --replicates 2
"${cli[@]}" lottery "${flags[@]}" --levels 5 --replicates 2
