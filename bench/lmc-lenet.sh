#!/usr/bin/env bash
# The issue-5 lenet figures, on the lottery run of bench/lottery-lenet.sh (same ROOT):
# instability at initialization (dense) and of the level-5 ticket rewound to initialization,
# then ticket vs dense comparisons with controls on the given levels.
# Usage: bench/lmc-lenet.sh [ROOT] [THREADS] [COMPARE_LEVELS] [PARTS: instability,compare]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=${1:-${TMPDIR:-/tmp}/ticketlab-lottery-lenet}
threads=${2:-2}
levels=${3:-2,4,6,8,10}
parts=${4:-instability,compare}
dotnet build src/TicketLab.Cli -c Release -v q -nologo >/dev/null
cli=(dotnet src/TicketLab.Cli/bin/Release/net10.0/TicketLab.Cli.dll)
common=(--preset lenet_300_100 --root "$root" --threads "$threads" --quiet)
start=$(date +%s)
if [[ $parts == *instability* ]]; then
  "${cli[@]}" instability "${common[@]}" --json > "$root.instability-init.json"
  echo "instability at initialization: $(( $(date +%s) - start )) s"
  "${cli[@]}" instability "${common[@]}" --level 5 --json > "$root.instability-level5.json"
  echo "instability of the level-5 ticket: $(( $(date +%s) - start )) s"
fi
if [[ $parts == *compare* ]]; then
  "${cli[@]}" compare "${common[@]}" --levels "$levels" --unmasked-dense --json > "$root.compare.json"
  echo "compare: $(( $(date +%s) - start )) s"
fi
