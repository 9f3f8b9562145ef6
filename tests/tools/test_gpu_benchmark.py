"""tools/gpu_benchmark.sh, the prepared GPU run: without CUDA it says so and
stops within seconds; its plumbing (the benchmark commands it runs, the
files it writes into $OUT, the summary of the ratios) runs with a stand-in
for tools/benchmark.py. The GPU run itself needs a GPU (not run here)."""
import glob
import json
import os
import os.path as osp
import subprocess
import sys
import time

import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SCRIPT = osp.join(ROOT, 'tools', 'gpu_benchmark.sh')

#: stands in for the interpreter: runs everything with the real one except
#: tools/benchmark.py, whose arguments it records and whose --out it fakes
STUB = r'''#!/usr/bin/env bash
if [ "$1" = tools/benchmark.py ]; then
    echo "$*" >> "$CALLS"
    exec "$REAL_PY" - "$@" <<'EOF'
import json, sys
args = sys.argv[1:]
out = args[args.index('--out') + 1]
names = []
for a in args[1:]:  # the configs come first
    if a.startswith('-'):
        break
    names.append(a.split('/')[-1])
names = names if len(names) > 1 else ['plain'] + names
step = {n: 1.0 + 0.5 * i for i, n in enumerate(names)}
rows = {'train step (s)': step, 'train peak memory (MB)': step}
json.dump(dict(date='now', command='python ' + ' '.join(args), torch='x',
               device=args[args.index('--device') + 1], cost=rows),
          open(out, 'w'))
print('fake table')
EOF
fi
exec "$REAL_PY" "$@"
'''


def _run(env, timeout=300):
    return subprocess.run(['bash', SCRIPT], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout,
                          env={**os.environ, **env})


@pytest.mark.slow  # a fresh interpreter
def test_without_cuda_it_stops_in_seconds(tmp_path):
    import torch
    if torch.cuda.is_available():
        pytest.skip('CUDA is available here')
    start = time.time()
    proc = _run(dict(OUT=str(tmp_path), DEVICE='cuda'), timeout=120)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert time.time() - start < 60
    said = proc.stdout + proc.stderr
    assert 'torch.cuda.is_available() is False' in said
    assert 'Nothing was measured' in said
    logs = glob.glob(str(tmp_path / 'gpu_benchmark_*.log'))
    assert len(logs) == 1 and 'is_available() is False' in open(logs[0]).read()
    assert not glob.glob(str(tmp_path / '*.json'))


@pytest.mark.slow  # fresh interpreters, a synthetic set made
def test_plumbing_with_a_stand_in_benchmark(tmp_path):
    stub = tmp_path / 'python'
    stub.write_text(STUB)
    stub.chmod(0o755)
    calls = tmp_path / 'calls.txt'
    out = tmp_path / 'out'
    proc = _run(dict(
        OUT=str(out), DEVICE='cpu', DRY='1', PY=str(stub),
        REAL_PY=sys.executable, CALLS=str(calls), NUM_TRAIN='2',
        DATA_ROOT=str(tmp_path / 'data')))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    cost, fusion = calls.read_text().splitlines()
    for line in (cost, fusion):
        for arg in ('--device cpu', '--reps 1', '--warmup 0', '--batch 2',
                    f'--data-root {tmp_path / "data"}', f'--out {out}/'):
            assert arg in line, line
    assert cost.startswith('tools/benchmark.py design/light_coarse ')
    assert '--val-images 8' in cost
    assert fusion.startswith('tools/benchmark.py prior/no_prior '
                             'prior/oracle prior/late_oracle ')
    assert '--baseline no_prior --skip-metric' in fusion
    assert osp.isfile(tmp_path / 'data' / 'synthetic.json')  # data made
    files = sorted(os.listdir(out))
    assert [f.split('_')[0] for f in files] == [
        'cost', 'fusion', 'gpu', 'summary']  # 4 files: all come back
    stamp = files[0][len('cost_'):-len('.json')]
    assert files == [f'cost_{stamp}.json', f'fusion_{stamp}.json',
                     f'gpu_benchmark_{stamp}.log', f'summary_{stamp}.md']
    summary = (out / f'summary_{stamp}.md').read_text()
    assert 'early fusion (oracle): train step 1.50x no_prior' in summary
    assert 'late fusion (late_oracle): train step 2.00x no_prior' in summary
    assert '| train step (s) | 1 (1.00x) | 1.5 (1.50x) | 2 (2.00x) |' in \
        summary
    log = (out / f'gpu_benchmark_{stamp}.log').read_text()
    assert 'fake table' in log and 'exit 0' in log
    json.loads((out / f'fusion_{stamp}.json').read_text())
