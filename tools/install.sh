#!/usr/bin/env bash
# Install AllSpark, every modality plugin under plugins/ and the system packages they need.
# Safe to run again. Used by the README's first command and by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."

# open3d (point-cloud plugin) needs libusb at import time.
if ! ldconfig -p 2>/dev/null | grep -q 'libusb-1.0.so.0'; then
    if command -v apt-get >/dev/null 2>&1; then
        SUDO=$([ "$(id -u)" = 0 ] && echo "" || echo "sudo")
        $SUDO apt-get update -qq && $SUDO apt-get install -y -qq libusb-1.0-0
    else
        echo "warning: install the system library libusb-1.0 for open3d" >&2
    fi
fi

PIP="python -m pip install --quiet"
# torch and torchvision first, from one release pair: timm needs torchvision importable.
python -c "import torch, torchvision" 2>/dev/null || $PIP "torch>=2.6" torchvision
$PIP -e ".[tests]"
for plugin in plugins/allspark-plugin-*/; do
    case "$plugin" in *allspark-plugin-example/) continue ;; esac  # the guide's example
    $PIP -e "$plugin"
done
allspark plugins --check
