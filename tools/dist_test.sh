#!/usr/bin/env bash
# Distributed testing with torchrun (gloo on a machine without CUDA); see
# dist_run.sh for the port and multi-node variables.
#   bash tools/dist_test.sh CONFIG CHECKPOINT NPROC [test.py args...]
set -euo pipefail
if [ $# -lt 3 ]; then
    echo "usage: $0 CONFIG CHECKPOINT NPROC [test.py args...]" >&2
    exit 2
fi
exec bash "$(dirname "$0")/dist_run.sh" test.py "$3" "$1" "$2" \
    --launcher pytorch "${@:4}"
