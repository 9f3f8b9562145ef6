# The demo model on the generator's oracle priors (data_root/priors/ of the
# study set tools/benchmark_study.py makes in an empty --data-root; the
# demo's own data_root holds degraded ones): what a perfect pose model and
# segmenter would give.
_base_ = '../../demo/hierseg_synthetic_cpu.py'
