#!/usr/bin/env bash
# torchrun launcher shared by dist_train.sh and dist_test.sh.
#   bash tools/dist_run.sh SCRIPT NPROC [SCRIPT args...]   (SCRIPT in tools/)
# One node: torchrun picks a free port itself (--standalone), so jobs on one
# machine never race for a port; set PORT to choose it. Multi-node: NNODES,
# NODE_RANK, MASTER_ADDR, PORT. Interpreter: PYTHON.
set -euo pipefail
SCRIPT=$1
NPROC=$2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
MASTER_ADDR=${MASTER_ADDR:-127.0.0.1}
PYTHON=${PYTHON:-python}
TOOLS_DIR=$(cd "$(dirname "$0")" && pwd)
if [ "$NNODES" = 1 ] && [ -z "${PORT:-}" ]; then
    RDZV=(--standalone)
else
    RDZV=(--nnodes="$NNODES" --node_rank="$NODE_RANK"
          --master_addr="$MASTER_ADDR" --master_port="${PORT:-29500}")
fi

exec "$PYTHON" -m torch.distributed.run \
    "${RDZV[@]}" \
    --nproc_per_node="$NPROC" \
    "$TOOLS_DIR/$SCRIPT" \
    "${@:3}"
