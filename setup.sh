#!/usr/bin/env bash
# Sets up everything the toolkit needs on a Debian machine: phcpy (Debian's python3-phcpy, for the
# system Python), a virtual environment that sees it, and the Python dependencies.
set -euo pipefail
cd "$(dirname "$0")"
SYS_PY=/usr/bin/python3

if ! "$SYS_PY" -c "import phcpy" >/dev/null 2>&1 || ! "$SYS_PY" -c "import ensurepip" >/dev/null 2>&1; then
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    echo "setup: installing python3-phcpy and python3-venv with apt-get" >&2
    $SUDO apt-get update -qq >/dev/null
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-phcpy python3-venv >/dev/null
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
.venv/bin/pip install -q --disable-pip-version-check -e ".[empirics,test]"
echo "setup: done" >&2
