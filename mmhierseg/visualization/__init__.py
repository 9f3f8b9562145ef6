from .hier_visualizer import HierSegLocalVisualizer, level_field
from .panel import draw_panel, draw_title, overlay
from .prior_cells import prior_cells

__all__ = [
    'HierSegLocalVisualizer', 'level_field', 'draw_panel', 'draw_title',
    'overlay', 'prior_cells'
]
