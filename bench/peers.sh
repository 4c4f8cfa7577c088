#!/usr/bin/env bash
# TicketLab against PyTorch, measured in this one invocation, the two sides in turn (A B A B ...)
# at 1 and 2 threads: LeNet-300-100 epoch on Fashion-MNIST (s/epoch, test evaluation included),
# and ResNet-20 / VGG-16 training step (batch 128) and evaluation (batch 1000) in images/s.
# The PyTorch side is Debian's python3-torch (install it and libopenblas0-openmp first); each side's
# BLAS is printed, and PyTorch runs both as installed and with TicketLab's allocator settings.
# Prints a table of medians over ROUNDS and the ratios; for s/epoch lower is better, for images/s higher.
# Usage: bench/peers.sh [ROUNDS=3] [DATA=/usr/share/datasets/fashion-mnist]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
rounds=${1:-3}; data=${2:-/usr/share/datasets/fashion-mnist}
bench=bench/TicketLab.Bench/bin/Release/net10.0/TicketLab.Bench.dll
[ -f "$bench" ] || dotnet build -c Release bench/TicketLab.Bench >/dev/null
py=/usr/bin/python3
echo "# $(date -u +%FT%TZ), $(nproc) cores; TicketLab: libtorch 2.10 (TorchSharp 0.107), its own bundled kernels;"
echo "# PyTorch: $($py -c 'import torch; print(torch.__version__)'), BLAS via libblas.so.3 -> $(readlink -f /etc/alternatives/libblas.so.3-x86_64-linux-gnu 2>/dev/null || echo '?')"
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
# PyTorch as a user runs it, and given the allocator settings TicketLab applies to itself at load.
malloc=(env MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=2147483647)
figure() { awk '/images\/s|seconds per epoch/ {print ($NF == "images/s") ? $(NF-1) : $NF}'; }
row() { # name unit ticketlab-command -- pytorch-command
  local name=$1 unit=$2; shift 2; local t=() p=() sep=0
  for a in "$@"; do if [ "$a" = "--" ]; then sep=1; elif [ $sep = 0 ]; then t+=("$a"); else p+=("$a"); fi; done
  local tv=() pv=() mv=()
  for ((r = 0; r < rounds; r++)); do
    tv+=("$("${t[@]}" | figure)"); pv+=("$("${p[@]}" | figure)"); mv+=("$("${malloc[@]}" "${p[@]}" | figure)")
  done
  local tm pm mm; tm=$(printf '%s\n' "${tv[@]}" | median); pm=$(printf '%s\n' "${pv[@]}" | median); mm=$(printf '%s\n' "${mv[@]}" | median)
  printf '| %s | %s | %s | %s | %s | %.2f | %.2f |\n' "$name" "$unit" "$tm" "$pm" "$mm" "$(echo "$tm / $pm" | bc -l)" "$(echo "$tm / $mm" | bc -l)"
}
echo "| measurement | unit | TicketLab | PyTorch | PyTorch + allocator settings | TicketLab / PyTorch | TicketLab / PyTorch + settings |"
echo "|---|---|---|---|---|---|---|"
for threads in 1 2; do
  row "LeNet-300-100 epoch, $threads thread(s)" "s/epoch (lower is better)" env BENCH_THREADS=$threads dotnet $bench epoch 4 -- $py bench/peers/pytorch_lenet.py "$data" $threads 4
  for model in resnet_20 vgg_16; do
    steps=$([ $model = vgg_16 ] && echo 4 || echo 12); eval_steps=$([ $model = vgg_16 ] && echo 2 || echo 6)
    row "$model training step, $threads thread(s)" "images/s" env BENCH_THREADS=$threads dotnet $bench conv $model step $steps -- $py bench/peers/pytorch_convnets.py $model step $threads $steps
    row "$model evaluation, $threads thread(s)" "images/s" env BENCH_THREADS=$threads dotnet $bench conv $model eval $eval_steps -- $py bench/peers/pytorch_convnets.py $model eval $threads $eval_steps
  done
done
