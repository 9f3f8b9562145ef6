"""Ready-made label trees (dicts for :class:`~mmhierseg.ClassHierarchy`).

Usable by name wherever a hierarchy is expected (``hierarchy='pascal_part'``).
"""
__all__ = ['PASCAL_PART_HIERARCHY', 'PASCAL_PERSON_PART_HIERARCHY', 'PRESETS']

#: The Pascal-part layout (``gt_masks/*.npy``): ids from ``classes.txt``.
PASCAL_PART_HIERARCHY = dict(
    levels=('body', 'half', 'part'),
    leaves={0: 'background', 1: 'low_hand', 2: 'torso', 3: 'low_leg',
            4: 'head', 5: 'up_leg', 6: 'up_hand'},
    background='background',
    tree=dict(body=dict(
        upper_body=('head', 'torso', 'up_hand', 'low_hand'),
        lower_body=('up_leg', 'low_leg'))),
    palette=dict(
        background=(0, 0, 0), body=(192, 128, 128), upper_body=(220, 20, 60),
        lower_body=(0, 0, 142), low_hand=(255, 160, 0), torso=(220, 20, 60),
        low_leg=(0, 128, 255), head=(255, 220, 0), up_leg=(0, 0, 142),
        up_hand=(255, 96, 208)),
)

#: PASCAL-Person-Part (PNG label maps): the same tree, another id order.
PASCAL_PERSON_PART_HIERARCHY = dict(
    PASCAL_PART_HIERARCHY,
    leaves={0: 'background', 1: 'head', 2: 'torso', 3: 'up_hand',
            4: 'low_hand', 5: 'up_leg', 6: 'low_leg'})

#: Ready-made trees, usable by name wherever a hierarchy is expected.
PRESETS = {
    'pascal_part': PASCAL_PART_HIERARCHY,
    'pascal_person_part': PASCAL_PERSON_PART_HIERARCHY,
}
