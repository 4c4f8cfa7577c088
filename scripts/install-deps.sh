#!/usr/bin/env bash
# Installs what a fresh Debian 12 machine with the .NET SDK lacks for TicketLab:
# Fashion-MNIST (the Debian package dataset-fashion-mnist, the data the presets train on) and
# Chromium (for the HTML report rendering test), and Python 3 with Debian's PyTorch (python3-torch:
# tests read the store's safetensors files, load exported networks with torch.load, and write an
# OpenLTH-layout run to import), and for the Python package in python/ (scripts/python-smoke.sh):
# venv, Debian's numpy and pandas, pytest, matplotlib and Jupyter's nbconvert with an IPython
# kernel for the notebooks in examples/, wheel for an offline pip install. Uses sudo when not run as root.
set -euo pipefail
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
missing=()
[ -d /usr/share/datasets/fashion-mnist ] || missing+=(dataset-fashion-mnist)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v python3 >/dev/null 2>&1 || missing+=(python3)  # reads the store's safetensors files in a test
/usr/bin/python3 -c 'import torch' >/dev/null 2>&1 || missing+=(python3-torch)  # export/import tests (tests/python)
/usr/bin/python3 -c 'import ensurepip' >/dev/null 2>&1 || missing+=(python3-venv)  # python-smoke.sh: a venv for pip install ./python
/usr/bin/python3 -c 'import wheel' >/dev/null 2>&1 || missing+=(python3-wheel)  # pip builds ./python offline, without build isolation
/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1 || missing+=(python3-numpy)  # the ticketlab package's dependencies
/usr/bin/python3 -c 'import pandas' >/dev/null 2>&1 || missing+=(python3-pandas)
/usr/bin/python3 -c 'import pytest' >/dev/null 2>&1 || missing+=(python3-pytest)  # python/tests
/usr/bin/python3 -c 'import matplotlib' >/dev/null 2>&1 || missing+=(python3-matplotlib)  # the notebooks' figures
/usr/bin/python3 -c 'import ipykernel' >/dev/null 2>&1 || missing+=(python3-ipykernel)  # runs the notebooks
command -v jupyter-nbconvert >/dev/null 2>&1 || missing+=(jupyter-nbconvert)  # executes them headless
if [ ${#missing[@]} -gt 0 ]; then
  as_root apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
