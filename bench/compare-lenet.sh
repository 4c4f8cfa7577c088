#!/usr/bin/env bash
# Issue 9's figure: lenet_300_100 on full Fashion-MNIST, 10 levels of IMP rewound to
# initialization, 2 replicates, then each ticket vs its pruning solution at levels 2, 4, 6, 8, 10
# (with the scratch control, the second ticket and the dense solution). Resumable: run it again
# to continue; finished runs are reused. About an hour on two cores.
# Usage: bench/compare-lenet.sh ROOT [CLI...]
set -euo pipefail
root=$1; shift
if [ $# -gt 0 ]; then cli=("$@"); else cli=(dotnet "$(dirname "$0")/../src/TicketLab.Cli/bin/Release/net10.0/TicketLab.Cli.dll"); fi
flags=(--preset lenet_300_100 --root "$root" --quiet)
"${cli[@]}" lottery "${flags[@]}" --levels 10 --replicates 2
"${cli[@]}" compare "${flags[@]}" --levels 2,4,6,8,10 --replicates 2
