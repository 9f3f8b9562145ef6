"""For configs only: ``custom_imports=dict(imports=['mmhierseg',
'mmhierseg.utils.register_all'])`` calls
:func:`~mmhierseg.utils.register_all_modules` (``init_default_scope=False``:
the runner sets the config's scope), for tools that do not call it
themselves, such as mmseg's ``tools/train.py``: without it they get
mmhierseg's components but not torch's allow-list for MMEngine
checkpoints, so ``--resume`` fails under torch >= 2.6.

Importing this module is the explicit call; nothing else imports it.
"""
from .setup_env import register_all_modules

register_all_modules(init_default_scope=False)
