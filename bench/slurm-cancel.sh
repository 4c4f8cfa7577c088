#!/usr/bin/env bash
# Cancels one unit of a small study under Slurm and shows what happened: only the units that need
# it wait (Slurm cancels their jobs), every other unit finishes, and `study run --wait` exits
# non-zero (6: units not done) naming each unit left and why.
# Needs a running Slurm whose nodes see this machine's /tmp (scripts/slurm-local.sh start DIR, then
# export SLURM_CONF=DIR/slurm.conf). Fashion-MNIST is found as for any command.
# Usage: bench/slurm-cancel.sh [ROOT]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=${1:-$(mktemp -d "${TMPDIR:-/tmp}/ticketlab-slurm-cancel.XXXXXX")}
dotnet build src/TicketLab.Cli -c Release -v q -nologo >/dev/null
cli=(dotnet src/TicketLab.Cli/bin/Release/net10.0/TicketLab.Cli.dll)
study="$root/cancel.toml"
mkdir -p "$root"
# One job per unit (networks_per_process = 1): grouped, one job would hold level 0 of both replicates.
cat > "$study" <<'TOML'
name = "cancel"
networks_per_process = 1
[flags]
model-name = "lenet_300_100"
train-subset = 2000
training-steps = "1ep"
[[experiment]]
command = "lottery"
levels = 2
replicates = 2
[[experiment]]
command = "train"
replicates = 2
TOML
target="lottery/replicate_1/level_0"
"${cli[@]}" study run "$study" --root "$root/store" --executor slurm --wait > "$root/run.out" 2> "$root/run.err" &
run=$!
job=
for _ in $(seq 600); do
  job=$(squeue --noheader --format='%i %j' | awk -v name="ticketlab-cancel:$target" '$2 == name { print $1 }')
  [ -n "$job" ] && break
  sleep 0.1
done
[ -n "$job" ] || { echo "error: no job for $target was queued" >&2; kill "$run"; exit 1; }
echo "== scancel $job ($target), as soon as it was queued"
scancel "$job"
set +e
wait "$run"
code=$?
set -e
echo "== study run --executor slurm --wait (exit code $code):"
cat "$root/run.err"
echo "== study status:"
"${cli[@]}" study status "$study" --root "$root/store"
if [ "$code" -eq 6 ]; then echo "OK: exit code 6 (units not done, none failed)"; else echo "UNEXPECTED: exit code $code"; exit 1; fi
