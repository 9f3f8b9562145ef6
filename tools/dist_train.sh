#!/usr/bin/env bash
# Distributed training with torchrun (one process per GPU, or per CPU slot
# with the gloo backend on a machine without CUDA); see dist_run.sh for the
# port and multi-node variables.
#   bash tools/dist_train.sh CONFIG NPROC [train.py args...]
set -euo pipefail
if [ $# -lt 2 ]; then
    echo "usage: $0 CONFIG NPROC [train.py args...]" >&2
    exit 2
fi
exec bash "$(dirname "$0")/dist_run.sh" train.py "$2" "$1" \
    --launcher pytorch "${@:3}"
