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

# Issue 22: a result is tied to its data, its run and its mask (S: a 2-epoch LeNet on 2,000 examples).
S0=(--preset lenet_300_100 --train-subset 2000 --quiet); S=("${S0[@]}" --training-steps 2ep --threads 1)
# Same-format data with other content: the training images with their pixels inverted.
other=$work/other; mkdir -p "$other"; cp "$data"/* "$other"/
f=$(ls "$other"/train-images*); /usr/bin/python3 - "$f" <<'PY'
import gzip, sys
raw = bytearray(gzip.open(sys.argv[1]).read())
for i in range(16, len(raw)): raw[i] = 255 - raw[i]
gzip.open(sys.argv[1], "wb").write(bytes(raw))
PY
# Starts a run in the background and stops it (SIGTERM) once it has written a checkpoint.
interrupted() { local root=$1; shift; "${cli[@]}" train --root "$root" "$@" >/dev/null 2>&1 & local pid=$!
  for _ in $(seq 600); do [ -n "$(find "$root" -name checkpoint.bin 2>/dev/null)" ] && break; sleep 0.05; done
  sleep 0.3; kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null; }
interrupted "$work/r1" "${S0[@]}" --threads 1 --training-steps 40ep
row "1. other data on resume" train --root "$work/r1" "${S0[@]}" --threads 1 --training-steps 40ep --data-dir "$other"
"${cli[@]}" lottery --root "$work/r1b" "${S[@]}" --levels 3 >/dev/null 2>&1
row "1. other data for level 4" lottery --root "$work/r1b" "${S[@]}" --levels 4 --data-dir "$other"
interrupted "$work/r2" "${S0[@]}" --threads 1 --training-steps 40ep --lr 0.05
interrupted "$work/r2" "${S0[@]}" --threads 1 --training-steps 40ep --lr 0.1
src=$(ls "$work"/r2/train_*/replicate_1/checkpoint.bin | head -1); for c in "$work"/r2/train_*/replicate_1/checkpoint.bin; do [ "$c" != "$src" ] && cp "$src" "$c" && dst=$c; done
lr=$(grep -o '"lr": *[0-9.]*' "$(dirname "$dst")/hparams.json" | grep -o '[0-9.]*$')
row "2. checkpoint of another run" train --root "$work/r2" "${S0[@]}" --threads 1 --training-steps 40ep --lr "$lr"
"${cli[@]}" train --root "$work/r3" "${S[@]}" >/dev/null 2>&1
sed -i 's/"lr": 0.1/"lr": 0.5/' "$work"/r3/train_*/replicate_1/hparams.json
row "3. edited hparams.json (list)" list --root "$work/r3"
row "3. edited hparams.json (train)" train --root "$work/r3" "${S[@]}"
"${cli[@]}" lottery --root "$work/r4" "${S[@]}" --levels 3 >/dev/null 2>&1
l=$(ls -d "$work"/r4/lottery_*/replicate_1); for x in bin json; do mv "$l/level_2/main/mask.$x" "$work/m.$x"; mv "$l/level_3/main/mask.$x" "$l/level_2/main/mask.$x"; mv "$work/m.$x" "$l/level_3/main/mask.$x"; done
row "4. swapped masks of levels 2, 3" lottery --root "$work/r4" "${S[@]}" --levels 4
row "5. --training-steps 2^60+1 ep" train --root "$work/s" "${S0[@]}" --threads 1 --training-steps 1152921504606846977ep
row "5. --rewind-step 2^60+1 ep" lottery --root "$work/s" "${S[@]}" --rewind-step 1152921504606846977ep --levels 1
row "5. --milestone-steps 2^60+1 ep" train --root "$work/s" "${S[@]}" --milestone-steps 1152921504606846977ep
row "5. --training-steps 10^19 ep" train --root "$work/s" "${S0[@]}" --threads 1 --training-steps 10000000000000000000ep
row "6. --replicate 0" train --root "$work/s" "${S[@]}" --replicate 0
row "6. --replicate -5" train --root "$work/s" "${S[@]}" --replicate -5
"${cli[@]}" lottery --root "$work/r7" "${S[@]}" --levels 2 >/dev/null 2>&1
l=$(ls -d "$work"/r7/lottery_*/replicate_1); m=$l/level_1/main/metrics.csv; cp "$m" "$work/metrics.bak"; head -c $(( $(stat -c %s "$m") / 2 )) "$m" > "$work/cut" && cp "$work/cut" "$m"
row "7. metrics.csv cut mid-line (report)" report --root "$work/r7" "$(basename "$(dirname "$l")")"
cp "$work/metrics.bak" "$m"; rm "$l/level_2/main/metrics.csv"
row "7. metrics.csv deleted (report)" report --root "$work/r7" "$(basename "$(dirname "$l")")"
row "8. pruned to nothing" lottery --root "$work/s" "${S[@]}" --levels 1 --one-shot-sparsity 0.9999999 --pruning-layers-to-ignore none
TICKETLAB_ROOT="$work/afile" row "TICKETLAB_ROOT is a file (list)" list
TICKETLAB_ROOT="$work/afile" row "TICKETLAB_ROOT is a file (study status)" study status studies/quickstart.toml
row "--save-steps past the end" train --root "$work/s" "${S[@]}" --save-steps 100ep
"${cli[@]}" lottery --root "$work/s" "${S[@]}" --one-shot-sparsity 0.5 --levels 2 >"$work/out" 2>&1; code=$?
echo "| --one-shot-sparsity with --levels 2 | $code | $(grep -m1 'Lottery run' "$work/out" | cut -c1-150) |"
row "--threads 99999999999" train --root "$work/s" "${S0[@]}" --training-steps 2ep --threads 99999999999
l=$(ls -d "$work"/r1b/lottery_*/replicate_1)
"${cli[@]}" report --root "$work/r1b" "$(basename "$(dirname "$l")")" >/dev/null 2>"$work/err" &
sleep 0.6; kill -TERM $! 2>/dev/null; wait $!; echo "| SIGTERM to report (at 0.6 s) | $? | $(grep -v "^\s*$" "$work/err" | tail -1 | cut -c1-150) |"
"${cli[@]}" export --root "$work/r1b" "$(basename "$(dirname "$l")")" --level 1 --out "$work/exp" >/dev/null 2>"$work/err" &
sleep 0.6; kill -TERM $! 2>/dev/null; wait $!; echo "| SIGTERM to export (at 0.6 s) | $? | $(grep -v "^\s*$" "$work/err" | tail -1 | cut -c1-150) |"
"${cli[@]}" export --root "$work/r1b" "$(basename "$(dirname "$l")")" --level 2 --out "$work/exp" >/dev/null 2>&1
"${cli[@]}" train --root "$work/e" "${S[@]}" >/dev/null 2>&1
t=$(ls -d "$work"/e/train_*); "${cli[@]}" export --root "$work/e" "$(basename "$t")" --out "$work/exp" >/dev/null 2>"$work/err"; code=$?
echo "| dense export over a ticket export | $code | mask.pth left behind: $([ -e "$work/exp/mask.pth" ] && echo yes || echo no) |"
"${cli[@]}" instability --root "$work/i" "${S[@]}" --lr 1e6 >/dev/null 2>&1
"${cli[@]}" list --root "$work/i" >"$work/out" 2>"$work/err"; code=$?
echo "| instability whose copy diverged (list) | $code | state: $(grep -o 'instability_[0-9a-f]* *│ *[0-9]* *│ *[^│]*│ *[a-z]*' "$work/out" | awk '{print $NF}') |"
"${cli[@]}" instability --root "$work/i" "${S[@]}" >/dev/null 2>&1; "${cli[@]}" lottery --root "$work/i" "${S[@]}" --levels 2 >/dev/null 2>&1
"${cli[@]}" results --root "$work/i" >"$work/out" 2>"$work/err"; code=$?
echo "| derived numbers (barriers, errors) in results | $code | with float noise (over 12 decimals): $(awk -F, '$8 ~ /barrier|error|excess|drop/ && $9 ~ /\.[0-9]{13,}/' "$work/out" | wc -l) of $(awk -F, '$8 ~ /barrier|error|excess|drop/' "$work/out" | wc -l) |"
# A full disk when a run starts: only where a tiny tmpfs can be mounted (as root).
if [ "$(id -u)" -eq 0 ] && mkdir -p "$work/full" && mount -t tmpfs -o size=64k tmpfs "$work/full" 2>/dev/null; then
  dd if=/dev/zero of="$work/full/fill" bs=4k count=100 2>/dev/null
  row "disk full when a run starts" train --root "$work/full/store" "${S[@]}"
  echo "| disk full: files left in the run folder | | $(find "$work/full/store" -type f 2>/dev/null | wc -l) |"
  umount "$work/full"
fi
