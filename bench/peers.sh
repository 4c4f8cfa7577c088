#!/usr/bin/env bash
# TicketLab against PyTorch, measured in this one invocation, the two sides in turn (A B A B ...)
# at 1 and 2 threads:
# - LeNet-300-100 on Fashion-MNIST, s/epoch with test evaluation: the `ticketlab train` command as a
#   user runs it (median of epochs 2..N from its summary.json) and the bench loop, against a plain
#   PyTorch loop (median of epochs 2..N);
# - ResNet-20 / VGG-16 training step (batch 128) and evaluation (batch 1000) in images/s, and the
#   peak resident memory (VmHWM) of the training-step processes.
# The PyTorch side is Debian's python3-torch (install it and libopenblas0-openmp first); each side's
# BLAS is printed, and PyTorch runs both as installed and with TicketLab's allocator settings.
# Prints a table of medians over ROUNDS and the ratios of the medians, then the median of each round's
# own ratio (each round's figures go to stderr): for s/epoch and MiB lower is better, for images/s higher.
# Usage: [BENCH_AUTOCAST=bf16] bench/peers.sh [ROUNDS=3] [DATA=/usr/share/datasets/fashion-mnist] [ROWS=lenet,conv]
# (ROWS=lenet-cli: only the `ticketlab train` LeNet rows, SGD batch 128 and the paper's Adam batch 60: issue 23's table.)
# (LENET_ROUNDS=N gives the LeNet rows more rounds: on a shared 2-core VM, 2-thread epochs vary most.)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
rounds=${1:-3}; data=${2:-/usr/share/datasets/fashion-mnist}; rows=${3:-lenet,conv}
bench=bench/TicketLab.Bench/bin/Release/net10.0/TicketLab.Bench.dll
cli=src/TicketLab.Cli/bin/Release/net10.0/TicketLab.Cli.dll
[ -f "$bench" ] || dotnet build -c Release bench/TicketLab.Bench >/dev/null
[ -f "$cli" ] || dotnet build -c Release src/TicketLab.Cli >/dev/null
py=/usr/bin/python3
scratch=$(mktemp -d); trap 'rm -rf "$scratch"' EXIT
echo "# $(date -u +%FT%TZ), $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)); TicketLab: libtorch 2.10 (TorchSharp 0.107), its bundled MKL and oneDNN;"
echo "# PyTorch: $($py -c 'import torch; print(torch.__version__)'), BLAS via libblas.so.3 -> $(readlink -f /etc/alternatives/libblas.so.3-x86_64-linux-gnu 2>/dev/null || echo '?')"
# BENCH_AUTOCAST=bf16 (inherited by both sides): the conv rows with bfloat16 autocast on both sides.
[ "${BENCH_AUTOCAST:-}" = bf16 ] && echo "# conv rows under bf16 autocast on both sides (TicketLab --autocast bf16, PyTorch torch.autocast)"
source bench/stats.sh
# PyTorch as a user runs it, and given the allocator settings TicketLab applies to itself at load.
malloc=(env MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=2147483647)
figure() { awk '/images\/s|seconds per epoch/ {print ($NF == "images/s") ? $(NF-1) : $NF}'; }
memory() { awk '/peak resident memory/ {print $(NF-1)}'; }

# `ticketlab train` as a user runs it, into a fresh store each time; prints its steady seconds per epoch.
# PRESET: lenet_300_100 (SGD, batch 128) or maene_lenet_300_100_fashion (the paper's Adam, batch 60).
cli_lenet() { # threads epochs [preset]
  local root; root=$(mktemp -d -p "$scratch")
  dotnet "$cli" train --preset "${3:-lenet_300_100}" --training-steps "$2ep" --threads "$1" --root "$root" --data-dir "$data" --quiet >/dev/null
  echo "ticketlab train, $1 thread(s): median seconds per epoch $(epoch_seconds "$root")"
}

# A / B, or nan when either side printed no figure (or B is 0): never a silent 0.00.
ratio() { if [[ -z $1 || -z $2 || $1 == nan || $2 == nan ]] || (($(echo "$2 == 0" | bc))); then echo nan; else echo "$1 / $2" | bc -l; fi; }
# row NAME UNIT [--memory] TICKETLAB-COMMAND -- PYTORCH-COMMAND: the sides in turn, ROUNDS times.
row() {
  local name=$1 unit=$2; shift 2; local with_memory=0
  if [ "$1" = "--memory" ]; then with_memory=1; shift; fi
  local t=() p=() sep=0
  for a in "$@"; do if [ "$a" = "--" ]; then sep=1; elif [ $sep = 0 ]; then t+=("$a"); else p+=("$a"); fi; done
  local tv=() pv=() mv=() tmem=() pmem=() mmem=() out
  for ((r = 0; r < rounds; r++)); do
    out=$("${t[@]}"); tv+=("$(figure <<<"$out")"); tmem+=("$(memory <<<"$out")")
    out=$("${p[@]}"); pv+=("$(figure <<<"$out")"); pmem+=("$(memory <<<"$out")")
    out=$("${malloc[@]}" "${p[@]}"); mv+=("$(figure <<<"$out")"); mmem+=("$(memory <<<"$out")")
  done
  local tm pm mm; tm=$(printf '%s\n' "${tv[@]}" | median); pm=$(printf '%s\n' "${pv[@]}" | median); mm=$(printf '%s\n' "${mv[@]}" | median)
  # Round by round: each round's ratio, then their median. Where the machine's speed drifts between
  # rounds (this 2-core VM's two-thread speed flips between two modes), the runs of one round, minutes
  # apart at most, share a mode more often than runs of different rounds.
  local pr=() mr=()
  for ((r = 0; r < rounds; r++)); do pr+=("$(ratio "${tv[r]}" "${pv[r]}")"); mr+=("$(ratio "${tv[r]}" "${mv[r]}")"); done
  printf '| %s | %s | %s | %s | %s | %.2f | %.2f | %.2f | %.2f |\n' "$name" "$unit" "$tm" "$pm" "$mm" "$(ratio "$tm" "$pm")" "$(ratio "$tm" "$mm")" \
    "$(printf '%s\n' "${pr[@]}" | median)" "$(printf '%s\n' "${mr[@]}" | median)"
  echo "  $name, each round (TicketLab PyTorch PyTorch+settings): $(for ((r = 0; r < rounds; r++)); do printf '%s/%s/%s ' "${tv[r]}" "${pv[r]}" "${mv[r]}"; done)" >&2
  if [ $with_memory = 1 ]; then
    tm=$(printf '%s\n' "${tmem[@]}" | median); pm=$(printf '%s\n' "${pmem[@]}" | median); mm=$(printf '%s\n' "${mmem[@]}" | median)
    printf '| %s, peak memory | MiB (lower is better) | %s | %s | %s | %.2f | %.2f | | |\n' "$name" "$tm" "$pm" "$mm" "$(ratio "$tm" "$pm")" "$(ratio "$tm" "$mm")"
  fi
}
echo "| measurement | unit | TicketLab | PyTorch | PyTorch + allocator settings | TicketLab / PyTorch | TicketLab / PyTorch + settings | median of round ratios / PyTorch | ... / PyTorch + settings |"
echo "|---|---|---|---|---|---|---|---|---|"
for threads in 1 2; do
  if [[ $rows == *lenet* ]]; then
    conv_rounds=$rounds; rounds=${LENET_ROUNDS:-$rounds}
    row "LeNet-300-100 epoch, \`ticketlab train\`, SGD batch 128, $threads thread(s)" "s/epoch (lower is better)" cli_lenet $threads 4 -- $py bench/peers/pytorch_lenet.py "$data" $threads 4
    row "LeNet-300-100 epoch, \`ticketlab train\`, Adam batch 60 (maene), $threads thread(s)" "s/epoch (lower is better)" cli_lenet $threads 4 maene_lenet_300_100_fashion -- $py bench/peers/pytorch_lenet.py "$data" $threads 4 adam
    [[ $rows == *lenet-cli* ]] || row "LeNet-300-100 epoch, bench loop, $threads thread(s)" "s/epoch (lower is better)" env BENCH_THREADS=$threads dotnet $bench epoch 4 -- $py bench/peers/pytorch_lenet.py "$data" $threads 4
    rounds=$conv_rounds
  fi
  if [[ $rows == *conv* ]]; then
    for model in resnet_20 vgg_16; do
      steps=$([ $model = vgg_16 ] && echo 4 || echo 12); eval_steps=$([ $model = vgg_16 ] && echo 2 || echo 6)
      row "$model training step, $threads thread(s)" "images/s" --memory env BENCH_THREADS=$threads dotnet $bench conv $model step $steps -- $py bench/peers/pytorch_convnets.py $model step $threads $steps
      row "$model evaluation, $threads thread(s)" "images/s" env BENCH_THREADS=$threads dotnet $bench conv $model eval $eval_steps -- $py bench/peers/pytorch_convnets.py $model eval $threads $eval_steps
    done
  fi
done
