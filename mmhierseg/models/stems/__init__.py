"""Input stems: modules run on the normalized image before the backbone.
The pose priors they use are in :mod:`mmhierseg.priors`."""
from .pose_prior_stem import PosePriorStem

__all__ = ['PosePriorStem']
