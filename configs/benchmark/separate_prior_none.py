# The default (separate.py: joint training) without the pose prior: no stem,
# no prior files read. Against separate.py it measures what the prior is worth
# to the default model; prior_none.py does the same for the staged schedule.
_base_ = './prior_none.py'
custom_hooks = []
