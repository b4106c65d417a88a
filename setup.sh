#!/usr/bin/env bash
# Sets up everything the toolkit needs on a Debian machine: phcpy (Debian's python3-phcpy, for the
# system Python), the real Fashion-MNIST images (dataset-fashion-mnist, the default training data),
# Macaulay2 (the exact oracle of the slow tests), headless Chromium (renders `report` pages in the
# tests), Slurm and munge (`scripts/slurm-local.sh start` makes a one-node cluster of them for
# `grid --executor slurm`), a virtual environment that sees phcpy, and the Python dependencies (with
# the optional Bertini 2 engine, so that its tests run in CI too).
set -euo pipefail
cd "$(dirname "$0")"
SYS_PY=/usr/bin/python3

APT_PACKAGES="python3-phcpy python3-venv dataset-fashion-mnist macaulay2 chromium slurm-wlm munge"
missing=""
for pkg in $APT_PACKAGES; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing="$missing $pkg"
done
if [ -n "$missing" ]; then
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    echo "setup: installing$missing with apt-get" >&2
    $SUDO apt-get update -qq >/dev/null
    # shellcheck disable=SC2086
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
    echo "setup: creating .venv (with system site packages, for phcpy)" >&2
    "$SYS_PY" -m venv --system-site-packages .venv
fi

# torch: keep a build that is already there; otherwise the release this machine keeps on disk.
if ! .venv/bin/python -c "import torch, torchvision" >/dev/null 2>&1; then
    echo "setup: installing torch and torchvision" >&2
    .venv/bin/pip install -q --disable-pip-version-check "torch==2.14.1" "torchvision==0.29.1"
fi
echo "setup: installing the toolkit and its dependencies" >&2
.venv/bin/pip install -q --disable-pip-version-check -e ".[empirics,test,bertini]"
echo "setup: done" >&2
