#!/usr/bin/env bash
# TicketLab against PyTorch eager on one CUDA GPU, in this one invocation, the sides in turn:
# - ResNet-20 training step (batch 128, SGD with momentum) and evaluation (batch 1000, no grad) in
#   images/s: TicketLab's `bench conv` against bench/peers/pytorch_convnets.py as PyTorch runs by
#   default (NCHW) and laid out channels-last (as TicketLab lays out conv inputs), TF32 on, then
#   OFF_ROUNDS rounds with TF32 off;
# - `ticketlab train --preset resnet_20 --device cuda` end to end on a CIFAR-10-shaped dataset of
#   random images (no CIFAR is reachable there), data on the device: images/s of its median epoch
#   (training and test evaluation).
# Needs a CUDA build of PyTorch for python3. Where .NET is missing it runs the bundle .gpu/ (the CLI
# in .gpu/app, the bench in .gpu/bench and the .NET runtime; docs/performance.md, "On a GPU", says
# how it is made); else it builds both here and runs them against that PyTorch's libtorch.
# Usage, from the checkout root on the GPU machine: bash bench/gpu.sh [ROUNDS=3] [STEPS=100] [EPOCHS=3] [OFF_ROUNDS=1]
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
rounds=${1:-3}; steps=${2:-100}; epochs=${3:-3}; off_rounds=${4:-1}
peer=$PWD/bench/peers/pytorch_convnets.py
if [ -f .gpu/run.sh ]; then
  bench=(bash .gpu/run.sh bench/TicketLab.Bench.dll); cli=(bash .gpu/run.sh app/TicketLab.Cli.dll)
else
  dotnet build -c Release bench/TicketLab.Bench >/dev/null && dotnet build -c Release src/TicketLab.Cli >/dev/null || exit 1
  torchlib=$(python3 -c 'import torch, os; print(os.path.join(os.path.dirname(torch.__file__), "lib"))') || exit 1
  # The bench loads libtorch as it starts; the CLI finds PyTorch's itself (--device cuda).
  bench=(env "LD_LIBRARY_PATH=$torchlib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" dotnet bench/TicketLab.Bench/bin/Release/net10.0/TicketLab.Bench.dll)
  cli=(dotnet src/TicketLab.Cli/bin/Release/net10.0/TicketLab.Cli.dll)
fi
echo "# $(date -u +%FT%TZ) $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader)"
python3 -c 'import torch; print(f"# PyTorch {torch.__version__}, CUDA {torch.version.cuda}, cuDNN {torch.backends.cudnn.version()}; TicketLab: TorchSharp 0.107 on that libtorch")'
figure() { awk '/images\/s/ {print $(NF-1)}'; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
# side NAME COMMAND...: runs it, echoes its line to stderr (the log), appends its figure to $scratch/NAME.
scratch=$(mktemp -d); trap 'rm -rf "$scratch"' EXIT
side() { local name=$1; shift; local out; out=$("$@" 2>&1) || { echo "FAILED: $* :: $out" >&2; return; }
  grep images/s <<<"$out" >&2; figure <<<"$out" >>"$scratch/$name"; }
measure() { # MODE TF32 ROUNDS
  for ((r = 0; r < $3; r++)); do
    BENCH_TF32=$2 side "t-$1-$2" "${bench[@]}" conv resnet_20 "$1" "$steps" cuda
    BENCH_TF32=$2 side "p-$1-$2" python3 "$peer" resnet_20 "$1" 1 "$steps" cuda
    BENCH_TF32=$2 BENCH_CHANNELS_LAST=1 side "c-$1-$2" python3 "$peer" resnet_20 "$1" 1 "$steps" cuda
  done
}
for mode in step eval; do measure "$mode" 1 "$rounds"; measure "$mode" 0 "$off_rounds"; done
echo "| ResNet-20, images/s | TF32 | TicketLab | PyTorch eager | PyTorch eager, channels-last | / PyTorch | / channels-last |"
echo "|---|---|---|---|---|---|---|"
for mode in step eval; do for tf32 in 1 0; do
  t=$(median <"$scratch/t-$mode-$tf32" 2>/dev/null); p=$(median <"$scratch/p-$mode-$tf32" 2>/dev/null); c=$(median <"$scratch/c-$mode-$tf32" 2>/dev/null)
  [ -n "$t" ] && [ -n "$p" ] && [ -n "$c" ] || { echo "| $mode | $tf32 | ${t:-failed} | ${p:-failed} | ${c:-failed} | | |"; continue; }
  printf '| %s | %s | %s | %s | %s | %.2f | %.2f |\n' "$([ $mode = step ] && echo 'training step, batch 128' || echo 'evaluation, batch 1000')" \
    "$([ $tf32 = 1 ] && echo on || echo off)" "$t" "$p" "$c" "$(awk "BEGIN {print $t / $p}")" "$(awk "BEGIN {print $t / $c}")"
done; done

# The CLI end to end: CIFAR-10's file layout, random pixels and labels (throughput, not accuracy).
data=$scratch/cifar/cifar-10-batches-bin; mkdir -p "$data"
python3 - "$data" <<'EOF'
import sys, numpy as np
rng = np.random.default_rng(0)
for name in [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]:
    records = rng.integers(0, 256, (10000, 3073), dtype=np.uint8)
    records[:, 0] %= 10
    records.tofile(f"{sys.argv[1]}/{name}")
EOF
for tf32 in on off; do
  flags=(); [ $tf32 = off ] && flags=(--no-tf32)
  root=$scratch/store-$tf32
  "${cli[@]}" train --preset resnet_20 --device cuda "${flags[@]}" --training-steps "${epochs}ep" \
    --data-dir "$scratch/cifar" --root "$root" --quiet 2>&1 | tail -5
  python3 - "$root" "$tf32" <<'EOF'
import glob, json, sys
summary = json.load(open(glob.glob(f"{sys.argv[1]}/train_*/replicate_1/summary.json")[0]))
seconds = summary["median_epoch_seconds"]
print(f"ticketlab train resnet_20 --device cuda, TF32 {sys.argv[2]}: median epoch {seconds:.2f} s (50,000 training images"
      f" + 10,000 test images) -> {50000 / seconds:.0f} training images/s counting the evaluation in the epoch")
EOF
done
