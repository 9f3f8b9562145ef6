"""Benchmarks and seed studies as library functions; ``tools/benchmark*.py``
are their command lines."""
from .cost import PLAIN, build, cost_rows, format_cost, model_cfgs, plain_cfg
from .data import (DEGRADE_LEVELS, STUDY_DATA, data_manifest,
                   degrade_prior_folder,
                   prepare_study_data)
from .metric_cost import metric_cost
from .report import format_curve, format_table, summarize
from .study import StudySettings, resolve_config, run_key, run_study
from .timing import interleaved, peak_memory_mb

__all__ = [
    'PLAIN', 'build', 'cost_rows', 'format_cost', 'model_cfgs', 'plain_cfg',
    'DEGRADE_LEVELS', 'STUDY_DATA', 'data_manifest', 'degrade_prior_folder',
    'prepare_study_data', 'metric_cost', 'format_curve', 'format_table',
    'summarize', 'StudySettings', 'resolve_config', 'run_key', 'run_study',
    'interleaved', 'peak_memory_mb'
]
