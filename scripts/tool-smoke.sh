#!/usr/bin/env bash
# Packs the ticketlab tool, installs it from the package folder into a scratch tool path (as the
# README says) and runs it: --version, --help, and a 20-iteration training on Fashion-MNIST that
# loads libtorch, so the installed libLibTorchSharp.so must be the patched one on Debian 12.
# Needs Fashion-MNIST (bash scripts/install-deps.sh). Offline: the only package source is the
# scratch folder the tool is packed into. About a minute, most of it compressing libtorch.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
step() { printf '\n== %s\n' "$*"; }
fail() { echo "tool-smoke: $*" >&2; exit 1; }

step "dotnet pack src/TicketLab.Cli"
start=$SECONDS
dotnet pack src/TicketLab.Cli -c Release -o "$work/packages" -v quiet -nologo
ls -l "$work/packages"
echo "packed in $((SECONDS - start)) s"

cat > "$work/nuget.config" <<EOF
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
    <add key="ticketlab" value="$work/packages" />
  </packageSources>
</configuration>
EOF
step "dotnet tool install --tool-path"
start=$SECONDS
dotnet tool install --tool-path "$work/tools" --configfile "$work/nuget.config" TicketLab.Cli
echo "installed in $((SECONDS - start)) s"
ticketlab=$work/tools/ticketlab

step "ticketlab --version"
version=$("$ticketlab" --version)
echo "$version"
[[ $version =~ ^ticketlab\ [0-9]+\.[0-9]+\.[0-9]+ ]] || fail "unexpected --version output: $version"
if commit=$(git rev-parse --short=7 HEAD 2>/dev/null); then
  [[ $version == *"(commit $commit)" ]] || fail "--version does not name commit $commit: $version"
fi

step "ticketlab --help"
"$ticketlab" --help | tee "$work/help" | sed -n '4,6p'
grep -q '^  ticketlab \[command\] \[options\]' "$work/help" || fail "help usage does not name ticketlab"

shim=$(find "$work/tools/.store" -name libLibTorchSharp.so -print -quit)
if command -v readelf >/dev/null; then
  step "installed $(basename "$shim")"
  readelf -V "$shim" | grep 'GLIBCXX_3.4.32' | tee "$work/verneed"
  grep -q 'Flags: WEAK' "$work/verneed" || fail "the installed shim still requires GLIBCXX_3.4.32 strictly: $shim"
fi

step "ticketlab train (loads libtorch)"
"$ticketlab" train --preset lenet_300_100 --training-steps 20it --train-subset 500 --root "$work/store" --quiet --json \
  > "$work/summary.json" 2> "$work/train.err" || { cat "$work/train.err" >&2; fail "training failed"; }
grep '^Final test accuracy' "$work/train.err"
# The run's name is the hash of its hyperparameters, as before the tool and source-generated JSON.
[ -f "$work/store/train_d777787d0fe7c013/replicate_1/summary.json" ] || fail "expected run train_d777787d0fe7c013; got: $(ls "$work/store")"
echo "tool-smoke: ok"
