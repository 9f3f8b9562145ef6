# The demo model exactly as shipped (configs/demo/hierseg_synthetic_cpu.py,
# its schedule included), as a study row: next to old_recipe.py it measures
# the pretrained encoder; next to prior_*.py, what the prior is worth.
_base_ = '../demo/hierseg_synthetic_cpu.py'
