#!/usr/bin/env bash
# Wall time and CPU use of one study run on a fresh store, for one or more builds of the CLI run in
# turn (interleaved rounds, so a busy spell on the machine falls on both): the study-execution
# figure of issue 23 (before: a process per unit; after: long-lived workers).
# For each run it prints the wall time, the CPU seconds of the run's process tree (/usr/bin/time:
# the command and every child it waited for), their ratio to wall x cores (how busy the run kept
# the machine), and the whole machine's busy share over the run from /proc/stat (other programs
# included, so on a shared machine it only bounds the run's own use from above).
# Usage: bench/study-wall.sh STUDY.toml WORKERS ROUNDS LABEL=CLI.dll [LABEL=CLI.dll ...]
#   e.g. bench/study-wall.sh /tmp/quick.toml 2 2 before=/tmp/before/TicketLab.Cli.dll after=src/TicketLab.Cli/bin/Release/net10.0/TicketLab.Cli.dll
set -euo pipefail
[ $# -ge 4 ] || { sed -n 2,11p "$0" >&2; exit 2; }
study=$1 workers=$2 rounds=$3
shift 3
cores=$(nproc)
scratch=$(mktemp -d "${TMPDIR:-/tmp}/ticketlab-study-wall.XXXXXX")
busy() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8, $2 + $3 + $4 + $5 + $6 + $7 + $8 }' /proc/stat; }
printf '%-8s %5s %8s %9s %9s %9s %5s\n' build round wall_s cpu_s run_util machine exit
for round in $(seq "$rounds"); do
  for build in "$@"; do
    label=${build%%=*} dll=${build#*=}
    root="$scratch/$label-$round"
    read -r busy0 total0 < <(busy)
    set +e
    /usr/bin/time -f '%e %U %S' -o "$scratch/time" dotnet "$dll" study run "$study" --root "$root" --workers "$workers" > "$scratch/$label-$round.out" 2> "$scratch/$label-$round.err"
    code=$?
    set -e
    read -r busy1 total1 < <(busy)
    read -r wall user sys < <(tail -1 "$scratch/time")
    awk -v l="$label" -v r="$round" -v w="$wall" -v u="$user" -v s="$sys" -v c="$cores" -v b=$((busy1 - busy0)) -v t=$((total1 - total0)) -v e="$code" \
      'BEGIN { printf "%-8s %5d %8.1f %9.1f %8.0f%% %8.0f%% %5d\n", l, r, w, u + s, 100 * (u + s) / (w * c), 100 * b / t, e }'
  done
done
echo "(run_util: CPU seconds of the run's processes / (wall x $cores cores); machine: all of /proc/stat's busy time over the run. Logs: $scratch)"
