#!/usr/bin/env bash
# The prepared GPU run (issue 22, item 4): one script, under five minutes on
# one GPU, from a fresh copy of the working tree with its .venv.
#
#   1. checks that torch sees CUDA (else says so and exits 3, in seconds);
#   2. the cost table of tools/benchmark.py on CUDA, which trains and infers
#      with AMP there (AmpOptimWrapper, autocast): the head designs against
#      plain mmseg, train step, peak memory, inference, metric share;
#   3. the train-step cost of each fusion of the pose prior, side by side
#      with the model without a prior in one run: prior/no_prior (baseline),
#      prior/oracle (early fusion), prior/late_oracle (late fusion);
#   4. a summary of the ratios.
#
# Outputs, in $OUT if set (else work_dirs/gpu_benchmark/): the timestamped log
# gpu_benchmark_<UTC>.log, cost_<UTC>.json, fusion_<UTC>.json and
# summary_<UTC>.md. Exit code: 0 when every step ran, 3 without CUDA, else
# the failing step's.
#
#   bash tools/gpu_benchmark.sh                      # the GPU run
#   DEVICE=cpu DRY=1 bash tools/gpu_benchmark.sh     # the plumbing, on a CPU
#
# Settings (environment): DEVICE (cuda), ITERS (timed repetitions, 5),
# WARMUP (2), BATCH (8), COST_CONFIGS (tools/benchmark.py's default head
# designs), DATA_ROOT (a small synthetic set, made in work_dirs/),
# NUM_TRAIN (16), VAL_IMAGES (707), STEP_TIMEOUT (seconds per benchmark,
# 130; 600 with DRY=1), PY (.venv/bin/python). DRY=1: ITERS=1, WARMUP=0, BATCH=2, one head
# design, VAL_IMAGES=8, for checking the script, not for numbers.
set -uo pipefail

cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
DEVICE=${DEVICE:-cuda}
if [ "${DRY:-0}" = 1 ]; then
    ITERS=${ITERS:-1} WARMUP=${WARMUP:-0} BATCH=${BATCH:-2}
    COST_CONFIGS=${COST_CONFIGS:-design/light_coarse}
    VAL_IMAGES=${VAL_IMAGES:-8} NUM_TRAIN=${NUM_TRAIN:-4}
    STEP_TIMEOUT=${STEP_TIMEOUT:-600}  # CPUs are slow
fi
ITERS=${ITERS:-5}
WARMUP=${WARMUP:-2}
BATCH=${BATCH:-8}
COST_CONFIGS=${COST_CONFIGS:-}
VAL_IMAGES=${VAL_IMAGES:-707}
NUM_TRAIN=${NUM_TRAIN:-16}
STEP_TIMEOUT=${STEP_TIMEOUT:-130}  # two steps, all within 5 minutes
RESULTS=${OUT:-work_dirs/gpu_benchmark}
# not under $OUT: only a few files come back from there
DATA_ROOT=${DATA_ROOT:-work_dirs/gpu_benchmark_data/synthetic_pascal_part}
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$RESULTS" || { echo "gpu_benchmark: cannot create $RESULTS" >&2; exit 2; }
LOG=$RESULTS/gpu_benchmark_$STAMP.log
exec > >(tee -a "$LOG") 2>&1

say() { echo "[$(date -u +%H:%M:%S)] $*"; }
START=$SECONDS
say "gpu_benchmark $STAMP: DEVICE=$DEVICE ITERS=$ITERS WARMUP=$WARMUP BATCH=$BATCH" \
    "DRY=${DRY:-0} OUT=$RESULTS"
say "git: $(git rev-parse --short HEAD 2>/dev/null || echo '?')" \
    "($(git status --porcelain 2>/dev/null | wc -l) changed files)"

# 1. torch and the device, in seconds
if ! timeout 120 "$PY" - "$DEVICE" <<'EOF'
import sys
import torch
device = sys.argv[1]
cuda = torch.cuda.is_available()
print(f'torch {torch.__version__} (built for CUDA {torch.version.cuda}), '
      f'cuda available: {cuda}, {torch.get_num_threads()} torch threads')
if device.startswith('cuda'):
    if not cuda:
        print(f'gpu_benchmark: error: DEVICE={device} but torch.cuda.'
              'is_available() is False: this torch has no usable CUDA here '
              '(no GPU, a driver older than CUDA '
              f'{torch.version.cuda}, or a CPU wheel; requirements/torch.txt '
              'pins the CUDA build). Nothing was measured. On a CPU: '
              'DEVICE=cpu DRY=1 bash tools/gpu_benchmark.sh',
              file=sys.stderr)
        sys.exit(3)
    p = torch.cuda.get_device_properties(0)
    print(f'GPU: {p.name}, {p.total_memory / 2**30:.0f} GiB, capability '
          f'{p.major}.{p.minor}; cuDNN {torch.backends.cudnn.version()}')
EOF
then
    say "stopped: no $DEVICE (exit 3)"
    exit 3
fi
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.used,memory.total,utilization.gpu --format=csv

# the synthetic set the benchmark's configs read (one batch of it is used)
say "data: $DATA_ROOT ($NUM_TRAIN train images if it must be made)"
if ! timeout 120 "$PY" -c "
import sys
from mmhierseg.benchmark import prepare_study_data
made = prepare_study_data(sys.argv[1], num_train=int(sys.argv[2]), num_val=4)
print('made' if made else 'found', sys.argv[1])" "$DATA_ROOT" "$NUM_TRAIN"; then
    say "stopped: the synthetic data could not be made"
    exit 4
fi

status=0
run_step() {  # name, then the tools/benchmark.py arguments
    local name=$1; shift
    local t0=$SECONDS
    say "$name: python tools/benchmark.py $*"
    timeout "$STEP_TIMEOUT" "$PY" tools/benchmark.py "$@" \
        --device "$DEVICE" --reps "$ITERS" --warmup "$WARMUP" \
        --batch "$BATCH" --data-root "$DATA_ROOT" \
        --out "$RESULTS/${name}_$STAMP.json"
    local rc=$?
    [ "$rc" = 124 ] && say "$name: stopped after STEP_TIMEOUT=${STEP_TIMEOUT}s"
    say "$name: exit $rc after $((SECONDS - t0)) s"
    [ "$rc" = 0 ] || status=$rc
}

# 2. the cost table (AMP on CUDA)
# shellcheck disable=SC2086  # COST_CONFIGS is a list of config names
run_step cost $COST_CONFIGS --val-images "$VAL_IMAGES"
# 3. train step of each fusion against no prior, in one run
run_step fusion prior/no_prior prior/oracle prior/late_oracle \
    --baseline no_prior --skip-metric

# 4. summary
"$PY" - "$RESULTS" "$STAMP" > "$RESULTS/summary_$STAMP.md" <<'EOF'
import json
import os.path as osp
import sys
folder, stamp = sys.argv[1:]
out = [f'# gpu_benchmark {stamp}']
for name, base in (('cost', None), ('fusion', 'no_prior')):
    path = osp.join(folder, f'{name}_{stamp}.json')
    if not osp.isfile(path):
        out.append(f'\n{name}: no result (see the log)')
        continue
    rep = json.load(open(path))
    rows = rep['cost']
    names = list(next(iter(rows.values())))
    base = base or names[0]
    amp = 'AMP' if str(rep['device']).startswith('cuda') else 'no AMP'
    out.append(f'\n## {name}: {rep["command"]}\n\n{rep["date"]}, torch '
               f'{rep["torch"]}, {rep["device"]} ({amp}); ratios to '
               f'{base}\n')
    out.append('| | ' + ' | '.join(names) + ' |')
    out.append('|---' * (len(names) + 1) + '|')
    for row, vals in rows.items():
        out.append(f'| {row} | ' + ' | '.join(
            f'{vals[n]:.3g} ({vals[n] / vals[base]:.2f}x)' for n in names)
            + ' |')
    if name == 'fusion':
        step = rows['train step (s)']
        for n, label in (('oracle', 'early'), ('late_oracle', 'late')):
            if n in step:
                out.append(f'\n{label} fusion ({n}): train step '
                           f'{step[n] / step[base]:.2f}x no_prior')
    if 'metric' in rep:
        m = rep['metric']
        out.append(f'\nmetric: {m["metric_s"]:.1f} s = {100 * m["share"]:.2f}'
                   f' % of inference ({m["inference_s"]:.0f} s)')
print('\n'.join(out))
EOF
cat "$RESULTS/summary_$STAMP.md"
say "done in $((SECONDS - START)) s, exit $status; files in $RESULTS:" \
    "$(cd "$RESULTS" && ls -- *"$STAMP"* | tr '\n' ' ')"
exit "$status"
