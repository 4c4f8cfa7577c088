#!/usr/bin/env bash
# Checks the Python side: builds a small real store with the CLI (a lottery run of LeNet-300-100 on
# a Fashion-MNIST subset, 2 replicates, 2 levels, with the random_reinit branch, a comparison, an
# instability analysis, a layer_density analysis, a rewind sweep and a training run), installs the
# ticketlab package from python/ into a venv that sees Debian's numpy and pandas (offline: no
# index, no build isolation), runs python/tests against the store, and executes the notebooks in
# examples/ headless, failing on any error they show. Needs the Debian packages of
# scripts/install-deps.sh. About a minute and a half on two cores. TICKETLAB_SMOKE_KEEP=1 keeps
# the scratch folder (store, venv, executed notebooks) and prints where it is.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
work=$(mktemp -d /tmp/ticketlab-python-smoke.XXXXXX)
if [ "${TICKETLAB_SMOKE_KEEP:-0}" = 1 ]; then trap 'echo "python-smoke: kept $work"' EXIT; else trap 'rm -rf "$work"' EXIT; fi
step() { printf '\n== %s\n' "$*"; }
fail() { echo "python-smoke: $*" >&2; exit 1; }
python=/usr/bin/python3
begin=$SECONDS

step "tools"
"$python" -c 'import numpy, pandas, matplotlib, nbformat, nbclient, ipykernel, pytest, venv, ensurepip' \
  || fail "missing Debian Python packages: run bash scripts/install-deps.sh"
command -v jupyter >/dev/null && jupyter nbconvert --version >/dev/null || fail "jupyter nbconvert is missing: run bash scripts/install-deps.sh"
"$python" -c 'import sys, numpy, pandas; print("python3", sys.version.split()[0], "numpy", numpy.__version__, "pandas", pandas.__version__)'

step "a small store, made by the CLI"
start=$SECONDS
dotnet build src/TicketLab.Cli -c Release -nologo -v quiet
ticketlab() {
  dotnet run --no-build -c Release --project src/TicketLab.Cli -- "$@" >> "$work/cli.log" 2>&1 \
    || { tail -20 "$work/cli.log" >&2; fail "ticketlab $1 failed"; }
}
store=$work/store
recipe=(--preset lenet_300_100 --train-subset 1000 --training-steps 1ep --threads 1 --quiet --root "$store")
line=(--points 5 --test-examples 1000)   # short interpolations
ticketlab lottery "${recipe[@]}" --levels 2 --replicates 2
ticketlab branch random_reinit "${recipe[@]}" --levels 1-2 --replicates 2
ticketlab compare "${recipe[@]}" --levels 1-2 --replicates 2 --finetune-steps 1ep "${line[@]}"
ticketlab instability "${recipe[@]}" --level 2 --replicates 2 "${line[@]}"
ticketlab analyze layer_density "${recipe[@]}" --levels 0-2 --replicates 2 --magnitudes
ticketlab rewind-sweep "${recipe[@]}" --steps 0it,4it --replicates 2 "${line[@]}"
ticketlab train "${recipe[@]}" --save-steps 4it
ls "$store"
echo "store made in $((SECONDS - start)) s"

step "pip install ./python (venv with Debian's site packages, offline)"
start=$SECONDS
"$python" -m venv --system-site-packages "$work/venv"
venv=$work/venv/bin
cp -r python "$work/python"   # built from a copy, so no build/ or egg-info is left in the checkout
"$venv/pip" install --no-index --no-build-isolation --disable-pip-version-check -q "$work/python"
installed=$("$venv/python" -c 'import ticketlab; print(ticketlab.__file__)')
[[ $installed == "$work/venv/"* ]] || fail "ticketlab imports from $installed, not from the venv"
echo "installed $installed in $((SECONDS - start)) s"

step "pytest python/tests (TICKETLAB_STORE=$store)"
start=$SECONDS
TICKETLAB_STORE=$store TICKETLAB_REQUIRE_STORE=1 "$venv/python" -m pytest -q -rs -p no:cacheprovider python/tests
echo "tests ran in $((SECONDS - start)) s"

step "notebooks (jupyter nbconvert --execute)"
start=$SECONDS
# A kernel of the venv's python, found by jupyter through JUPYTER_PATH.
"$venv/python" -Xfrozen_modules=off -m ipykernel install --sys-prefix --name ticketlab-python-smoke --display-name "ticketlab smoke" >/dev/null
"$venv/python" - "$work/venv/share/jupyter/kernels/ticketlab-python-smoke/kernel.json" <<'EOF'
import json, sys  # -Xfrozen_modules=off: no debugger warning from debugpy at each kernel start
spec = json.load(open(sys.argv[1]))
spec["argv"][1:1] = ["-Xfrozen_modules=off"]
json.dump(spec, open(sys.argv[1], "w"), indent=1)
EOF
notebooks=(examples/*.ipynb)
JUPYTER_PATH=$work/venv/share/jupyter TICKETLAB_STORE=$store MPLCONFIGDIR=$work/matplotlib \
  jupyter nbconvert --to notebook --execute --ExecutePreprocessor.kernel_name=ticketlab-python-smoke \
  --ExecutePreprocessor.timeout=300 --output-dir "$work/notebooks" "${notebooks[@]}"
# nbconvert stops at an exception in a cell, but not at one raised while a figure is drawn after
# the cell ran: look for error outputs in the executed notebooks (stderr, such as warnings, is
# shown). The committed ones must carry no outputs.
"$venv/python" - "$work/notebooks" "${notebooks[@]}" <<'EOF'
import os, re, sys
import nbformat
executed, committed = sys.argv[1], sys.argv[2:]
ansi = re.compile("\x1b\\[[0-9;]*m")
problems = []
for path in committed:
    nb = nbformat.read(path, 4)
    if any(c.get("outputs") or c.get("execution_count") for c in nb.cells if c.cell_type == "code"):
        problems.append(f"{path}: committed with outputs (clear them: jupyter nbconvert --clear-output --inplace {path})")
    ran = nbformat.read(os.path.join(executed, os.path.basename(path)), 4)
    figures = 0
    for i, cell in enumerate(ran.cells):
        for out in cell.get("outputs", []):
            if out.output_type == "error":
                problems.append(f"{path}: cell {i}: {out.ename}: {ansi.sub('', out.evalue)[:400]}")
            elif out.output_type == "stream" and out.name == "stderr":  # warnings: shown, not failed on
                print(f"{path}: cell {i} wrote to stderr: {out.text[:400]}")
            figures += "image/png" in out.get("data", {})
    print(f"{path}: {figures} figures")
    if figures == 0:
        problems.append(f"{path}: drew no figure")
for p in problems:
    print(p, file=sys.stderr)
sys.exit(1 if problems else 0)
EOF
echo "notebooks ran in $((SECONDS - start)) s"
echo "python-smoke: ok ($((SECONDS - begin)) s)"
