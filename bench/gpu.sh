#!/usr/bin/env bash
# TicketLab against PyTorch eager on one CUDA GPU, in this one invocation, the sides in turn:
# - ResNet-20 training step (batch 128, SGD with momentum) and evaluation (batch 1000, no grad) in
#   images/s: TicketLab's `bench conv` against bench/peers/pytorch_convnets.py as PyTorch runs by
#   default (NCHW) and laid out channels-last (as TicketLab lays out conv inputs), with TF32 on
#   (ROUNDS rounds), then OFF_ROUNDS rounds in full float32 (TF32 off) and OFF_ROUNDS rounds under
#   bf16 autocast (TicketLab's --autocast bf16 against torch.autocast);
# - `ticketlab train --preset resnet_20 --device cuda` end to end on a CIFAR-10-shaped dataset of
#   random images (no CIFAR is reachable there), data on the device: images/s of its median epoch
#   (training and test evaluation), with TF32 on and off.
# Needs a CUDA build of PyTorch for python3. Where .NET is missing it runs the bundle .gpu/ (the CLI
# in .gpu/app, the bench in .gpu/bench and the .NET runtime; docs/performance.md, "On a GPU", says
# how it is made); else it builds both here and runs them against that PyTorch's libtorch.
# Usage, from the checkout root on the GPU machine: bash bench/gpu.sh [ROUNDS=3] [STEPS=100] [EPOCHS=3] [OFF_ROUNDS=1]
# (GPU_BENCH_DEVICE=cpu GPU_BENCH_IMAGES=500 runs the same script on a CPU, to check the script.)
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
rounds=${1:-3}; steps=${2:-100}; epochs=${3:-3}; off_rounds=${4:-1}
device=${GPU_BENCH_DEVICE:-cuda}; images=${GPU_BENCH_IMAGES:-10000}
peer=$PWD/bench/peers/pytorch_convnets.py
if [ -f .gpu/run.sh ]; then
  bench=(bash .gpu/run.sh bench/TicketLab.Bench.dll); cli=(bash .gpu/run.sh app/TicketLab.Cli.dll)
else
  dotnet build -c Release bench/TicketLab.Bench >/dev/null && dotnet build -c Release src/TicketLab.Cli >/dev/null || exit 1
  bench=(dotnet bench/TicketLab.Bench/bin/Release/net10.0/TicketLab.Bench.dll)
  if [ "$device" = cuda ]; then
    # The bench loads libtorch as it starts: PyTorch's CUDA one, on the library path; the CLI finds it itself (--device cuda).
    torchlib=$(python3 -c 'import torch, os; print(os.path.join(os.path.dirname(torch.__file__), "lib"))') || exit 1
    bench=(env "LD_LIBRARY_PATH=$torchlib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "${bench[@]}")
  fi
  cli=(dotnet src/TicketLab.Cli/bin/Release/net10.0/TicketLab.Cli.dll)
fi
echo "# $(date -u +%FT%TZ) $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || echo "no nvidia-smi: device $device")"
python3 -c 'import torch; print(f"# PyTorch {torch.__version__}, CUDA {torch.version.cuda}, cuDNN {torch.backends.cudnn.version()}; TicketLab: TorchSharp 0.107 on that libtorch")'
figure() { awk '/images\/s/ {print $(NF-1)}'; }
source bench/stats.sh
# side NAME COMMAND...: runs it, echoes its line to stderr (the log), appends its figure to $scratch/NAME.
scratch=$(mktemp -d); trap 'rm -rf "$scratch"' EXIT
side() { local name=$1; shift; local out; out=$("$@" 2>&1) || { echo "FAILED: $* :: $out" >&2; return; }
  grep images/s <<<"$out" >&2; figure <<<"$out" >>"$scratch/$name"; }
# Precision settings, both sides: tf32 (TF32 matrix products, the CLI's default on CUDA), fp32
# (TF32 off), bf16 (autocast to bfloat16, TF32 on).
settings() { case $1 in tf32) echo BENCH_TF32=1;; fp32) echo BENCH_TF32=0;; bf16) echo BENCH_TF32=1 BENCH_AUTOCAST=bf16;; esac; }
measure() { # MODE PRECISION ROUNDS
  local env; read -ra env <<<"$(settings "$2")"
  for ((r = 0; r < $3; r++)); do
    side "t-$1-$2" env "${env[@]}" "${bench[@]}" conv resnet_20 "$1" "$steps" "$device"
    side "p-$1-$2" env "${env[@]}" python3 "$peer" resnet_20 "$1" 1 "$steps" "$device"
    side "c-$1-$2" env "${env[@]}" BENCH_CHANNELS_LAST=1 python3 "$peer" resnet_20 "$1" 1 "$steps" "$device"
  done
}
for mode in step eval; do measure "$mode" tf32 "$rounds"; measure "$mode" fp32 "$off_rounds"; measure "$mode" bf16 "$off_rounds"; done
echo "| ResNet-20, images/s | precision | TicketLab | PyTorch eager | PyTorch eager, channels-last | / PyTorch | / channels-last |"
echo "|---|---|---|---|---|---|---|"
for mode in step eval; do for precision in tf32 fp32 bf16; do
  t=$(median <"$scratch/t-$mode-$precision" 2>/dev/null); p=$(median <"$scratch/p-$mode-$precision" 2>/dev/null); c=$(median <"$scratch/c-$mode-$precision" 2>/dev/null)
  [[ -n $t && -n $p && -n $c && $t != nan && $p != nan && $c != nan ]] || { echo "| $mode | $precision | ${t/nan/failed} | ${p/nan/failed} | ${c/nan/failed} | | |"; continue; }
  printf '| %s | %s | %s | %s | %s | %.2f | %.2f |\n' "$([ $mode = step ] && echo 'training step, batch 128' || echo 'evaluation, batch 1000')" \
    "$(case $precision in tf32) echo 'TF32';; fp32) echo 'float32 (TF32 off)';; bf16) echo 'bf16 autocast';; esac)" "$t" "$p" "$c" "$(awk "BEGIN {print $t / $p}")" "$(awk "BEGIN {print $t / $c}")"
done; done

# The CLI end to end: CIFAR-10's file layout, random pixels and labels (throughput, not accuracy).
data=$scratch/cifar/cifar-10-batches-bin; mkdir -p "$data"
python3 - "$data" "$images" <<'EOF'
import sys, numpy as np
rng = np.random.default_rng(0)
for name in [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]:
    records = rng.integers(0, 256, (int(sys.argv[2]), 3073), dtype=np.uint8)
    records[:, 0] %= 10
    records.tofile(f"{sys.argv[1]}/{name}")
EOF
for precision in tf32 fp32 bf16; do
  case $precision in tf32) flags=();; fp32) flags=(--no-tf32);; bf16) flags=(--autocast bf16);; esac
  root=$scratch/store-$precision
  "${cli[@]}" train --preset resnet_20 --device "$device" "${flags[@]}" --training-steps "${epochs}ep" \
    --data-dir "$scratch/cifar" --root "$root" --quiet 2>&1 | tail -5
  python3 - "$root" "ticketlab train resnet_20 --device $device ${flags[*]}" "$images" <<'EOF'
import glob, json, sys
summary = json.load(open(glob.glob(f"{sys.argv[1]}/train_*/replicate_1/summary.json")[0]))
seconds, train, test = summary["median_epoch_seconds"], 5 * int(sys.argv[3]), int(sys.argv[3])
print(f"{sys.argv[2]}: median epoch {seconds:.2f} s ({train:,} training images + {test:,} test images)"
      f" -> {train / seconds:.0f} training images/s counting the evaluation in the epoch")
EOF
done
