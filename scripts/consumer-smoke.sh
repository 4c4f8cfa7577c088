#!/usr/bin/env bash
# Uses the TicketLab library from a .NET 10 file-based app outside the repository: by project
# reference (#:project src/TicketLab/TicketLab.csproj; run, then published for linux-x64 with
# buildTransitive/TicketLab.targets imported) and by package reference (#:package TicketLab from a
# scratch folder that src/TicketLab is packed into). The app makes a TorchSharp tensor (libtorch
# loads only with the patched libLibTorchSharp.so on Debian 12) and names a run (hyperparameter
# JSON with reflection-based serialization off, as file-based apps have it). Offline: packages
# come from the scratch folder and the NuGet cache. About a minute.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo=$(pwd)
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
step() { printf '\n== %s\n' "$*"; }
fail() { echo "consumer-smoke: $*" >&2; exit 1; }

app_body() {
  cat <<'EOF'
using System.Text.Json;
using TicketLab.Hyperparameters;
using TorchSharp;

using var ones = torch.ones(2, 3);
Console.WriteLine($"libtorch {torch.__version__}: sum {ones.sum().item<float>()}");
Console.WriteLine($"reflection-based JSON: {JsonSerializer.IsReflectionEnabledByDefault}");
Console.WriteLine(Presets.Get("lenet_300_100").RunName);
EOF
}

# Runs the app in its folder; its build output goes to the scratch folder, not to the repository.
run_app() {
  local folder=$1
  (cd "$folder" && dotnet run --artifacts-path "$folder/artifacts" app.cs) > "$folder/out" 2> "$folder/err" \
    || { tail -40 "$folder/err" "$folder/out" >&2; fail "$folder/app.cs failed"; }
  cat "$folder/out"
  grep -q '^libtorch .*: sum 6$' "$folder/out" || fail "TorchSharp did not run in $folder"
  grep -q '^reflection-based JSON: False$' "$folder/out" || fail "expected a file-based app without reflection-based JSON"
  # The pinned name of the lenet_300_100 recipe (tests/TicketLab.Tests/Foundations/HashTests.cs).
  grep -qx 'train_c55ccdec8491f57a' "$folder/out" || fail "run name changed in $folder"
  local shim
  shim=$(find "$folder/artifacts/bin" -path '*linux-x64*' -name libLibTorchSharp.so -print -quit)
  if command -v readelf >/dev/null; then
    grep -q 'GLIBCXX_3.4.32  Flags: WEAK' <<< "$(readelf -V "$shim")" || fail "unpatched shim in the app's output: $shim"
    echo "patched: $shim"
  fi
}

step "file-based app with #:project"
mkdir -p "$work/project"
{ echo "#:project $repo/src/TicketLab/TicketLab.csproj"; app_body; } > "$work/project/app.cs"
start=$SECONDS
run_app "$work/project"
echo "built and ran in $((SECONDS - start)) s"

step "dotnet publish -r linux-x64 of the #:project app, with TicketLab.targets imported"
# A project reference alone patches build output only; publishing needs the targets (README).
cat > "$work/project/Directory.Build.targets" <<EOF
<Project>
  <Import Project="$repo/src/TicketLab/buildTransitive/TicketLab.targets" />
</Project>
EOF
sed -i '1a #:property PublishAot=false' "$work/project/app.cs"
start=$SECONDS
(cd "$work/project" && dotnet publish app.cs -r linux-x64 --artifacts-path "$work/project/artifacts" -o "$work/project/publish" -v quiet -nologo)
"$work/project/publish/app" | tee "$work/project/published-out"
grep -qx 'train_c55ccdec8491f57a' "$work/project/published-out" || fail "the published app did not run"
echo "published and ran in $((SECONDS - start)) s"

step "dotnet pack src/TicketLab"
# A version of its own, so that no TicketLab package already in the NuGet cache stands in for it.
version="$(dotnet msbuild src/TicketLab/TicketLab.csproj -getProperty:Version)-smoke.$(date +%s)"
dotnet pack src/TicketLab -c Release -o "$work/packages" -p:PackageVersion="$version" -v quiet -nologo
ls -l "$work/packages"

step "file-based app with #:package TicketLab@$version"
mkdir -p "$work/package"
{ echo "#:package TicketLab@$version"; app_body; } > "$work/package/app.cs"
cat > "$work/package/nuget.config" <<EOF
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <config>
    <add key="globalPackagesFolder" value="$work/nuget-packages" />
  </config>
  <packageSources>
    <clear />
    <add key="ticketlab" value="$work/packages" />
  </packageSources>
  <fallbackPackageFolders>
    <add key="cache" value="${NUGET_PACKAGES:-$HOME/.nuget/packages}" />
  </fallbackPackageFolders>
</configuration>
EOF
start=$SECONDS
run_app "$work/package"
echo "built and ran in $((SECONDS - start)) s"
echo "consumer-smoke: ok"
