#!/usr/bin/env bash
# The issue-4 experiment: lenet_300_100 on full Fashion-MNIST with the preset recipe, 10 IMP
# levels rewinding to initialization, 2 replicates, with the random_reinit and random_prune
# controls on the even levels. Prints the summary table and the wall time of each part.
# Usage: bench/lottery-lenet.sh [ROOT] [LEVELS] [REPLICATES] [THREADS] [CONTROL_LEVELS]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=${1:-${TMPDIR:-/tmp}/ticketlab-lottery-lenet}
levels=${2:-10}
replicates=${3:-2}
threads=${4:-2}
control_levels=${5:-2,4,6,8,10}
dotnet build src/TicketLab.Cli -c Release -v q -nologo >/dev/null
cli=(dotnet src/TicketLab.Cli/bin/Release/net10.0/TicketLab.Cli.dll)
common=(--preset lenet_300_100 --replicates "$replicates" --root "$root" --quiet --threads "$threads")
start=$(date +%s)
"${cli[@]}" lottery "${common[@]}" --levels "$levels" --json > "$root.lottery.json"
echo "lottery: $(( $(date +%s) - start )) s"
"${cli[@]}" branch random_reinit "${common[@]}" --levels "$control_levels" --json > "$root.reinit.json"
echo "lottery + random_reinit: $(( $(date +%s) - start )) s"
"${cli[@]}" branch random_prune "${common[@]}" --levels "$control_levels" --json > "$root.random_prune.json"
echo "whole experiment: $(( $(date +%s) - start )) s"
