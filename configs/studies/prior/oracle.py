# The demo model on the generator's oracle priors (data_root/priors/): what
# a perfect pose model and segmenter would give.
_base_ = '../../demo/hierseg_synthetic_cpu.py'
