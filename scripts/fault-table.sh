#!/usr/bin/env bash
# Prints the fault table of issue 10: for each bad input or fault, the exit code and the first
# line the CLI printed on stderr. Usage: scripts/fault-table.sh [CLI...]
#   default CLI: the Release build of src/TicketLab.Cli (build it first).
# Runs on a scratch store and a scratch copy of Fashion-MNIST; takes about a minute.
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ $# -gt 0 ]; then cli=("$@"); else cli=(dotnet src/TicketLab.Cli/bin/Release/net10.0/TicketLab.Cli.dll); fi
work=$(mktemp -d); chmod 755 "$work"; trap 'chmod -R u+w "$work"; rm -rf "$work"' EXIT
data=$work/data; mkdir -p "$data"; cp /usr/share/datasets/fashion-mnist/* "$data"/
small=(--preset lenet_300_100 --train-subset 1000 --training-steps 1ep --quiet)

# Permission faults need a user that permissions bind (root reads and writes anything).
as_user() { if [ "$(id -u)" -eq 0 ]; then setpriv --reuid=65534 --regid=65534 --clear-groups env HOME=/tmp DOTNET_CLI_HOME=/tmp "$@"; else "$@"; fi; }
row_as_user() { local name=$1; shift; as_user "${cli[@]}" "$@" >"$work/out" 2>"$work/err"; local code=$?
  printf '| %s | %s | %s |\n' "$name" "$code" "$(grep -v '^\s*$' "$work/err" | head -1 | cut -c1-150)"; }
row() { # name, then the command's arguments
  local name=$1; shift
  "${cli[@]}" "$@" >"$work/out" 2>"$work/err"; local code=$?
  printf '| %s | %s | %s |\n' "$name" "$code" "$(grep -v '^\s*$' "$work/err" | grep -vi '^Hyperparameters\|^  \|^Output:\|^Resuming\|epoch [0-9]' | head -1 | cut -c1-150)"
}

echo "| fault | exit | first line on stderr |"
echo "|---|---|---|"
row "divergence (--lr 1e6)" train --root "$work/s" --preset lenet_300_100 --train-subset 5000 --training-steps 4ep --lr 1e6 --quiet
row "divergence, rerun" train --root "$work/s" --preset lenet_300_100 --train-subset 5000 --training-steps 4ep --lr 1e6 --quiet
row "--lr Infinity" train --root "$work/s" "${small[@]}" --lr Infinity
row "--pruning-fraction NaN" lottery --root "$work/s" "${small[@]}" --pruning-fraction NaN --levels 1
row "--threads 0" train --root "$work/s" "${small[@]}" --threads 0
row "--threads -1" train --root "$work/s" "${small[@]}" --threads -1
row "--train-subset 70000" train --root "$work/s" --preset lenet_300_100 --train-subset 70000 --quiet
row "--data-dir /nonexistent" train --root "$work/s" "${small[@]}" --data-dir /nonexistent
mkdir -p "$work/partial"; cp "$data"/train-* "$work/partial"/
row "--data-dir missing one file" train --root "$work/s" "${small[@]}" --data-dir "$work/partial"
mkdir -p "$work/gz"; cp "$data"/* "$work/gz"/; f=$(ls "$work"/gz/train-images*); printf '\xff\xff\xff\xff' | dd of="$f" bs=1 seek=$(( $(stat -c %s "$f") / 2 )) conv=notrunc status=none
row "gzip payload corrupted" train --root "$work/s" "${small[@]}" --data-dir "$work/gz"
mkdir -p "$work/unreadable"; cp "$data"/* "$work/unreadable"/; chmod 000 "$work"/unreadable/t10k-labels*
mkdir -p "$work/open"; chmod 777 "$work/open"
row_as_user "unreadable data file" train --root "$work/open" "${small[@]}" --data-dir "$work/unreadable"
mkdir -p "$work/cifar/cifar-10-batches-bin"; for f in data_batch_{1..5}.bin test_batch.bin; do : > "$work/cifar/cifar-10-batches-bin/$f"; done
row "zero-byte CIFAR files" train --root "$work/s" --preset resnet_20 --training-steps 1it --data-dir "$work/cifar" --quiet
: > "$work/afile"
row "--root is a file" train --root "$work/afile" "${small[@]}"
mkdir -p "$work/ro"; chmod 555 "$work/ro"
row_as_user "--root read-only" train --root "$work/ro" "${small[@]}"
row "repeated flag" train --root "$work/s" "${small[@]}" --lr 0.1 --lr 0.2
row "unknown flag" train --root "$work/s" "${small[@]}" --no-such-flag
row "--device tpu" train --root "$work/s" "${small[@]}" --device tpu
# A finished small run whose stored files are then damaged.
"${cli[@]}" train --root "$work/t" "${small[@]}" >/dev/null 2>&1
run=$(ls -d "$work"/t/train_*/replicate_1)
cp "$run/summary.json" "$work/summary.bak"; echo '[1,2]' > "$run/summary.json"
row "summary.json is an array (list)" list --root "$work/t"
echo '{"final_test_accuracy":"high"}' > "$run/summary.json"
row "summary.json wrong type (list)" list --root "$work/t"
cp "$work/summary.bak" "$run/summary.json"; cp "$run/hparams.json" "$work/hparams.bak"; echo '{}' > "$run/hparams.json"
row "hparams.json missing keys (list)" list --root "$work/t"
cp "$work/hparams.bak" "$run/hparams.json"
chmod -R a-w "$work/t"
row_as_user "report into a read-only store" report --root "$work/t" "$(basename "$(dirname "$run")")"
chmod -R u+w "$work/t"
"${cli[@]}" lottery --root "$work/l" "${small[@]}" --levels 0 >/dev/null 2>&1
m=$(ls "$work"/l/lottery_*/replicate_1/level_0/main/models/model_final.bin); printf '\x7f' | dd of="$m" bs=1 seek=$(( $(stat -c %s "$m") - 100 )) conv=notrunc status=none
row "flipped bits in level-0 weights, then level 1" lottery --root "$work/l" "${small[@]}" --levels 1
