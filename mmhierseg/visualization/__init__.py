from .hier_visualizer import HierSegLocalVisualizer, level_field

__all__ = ['HierSegLocalVisualizer', 'level_field']
