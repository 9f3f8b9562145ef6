"""Writers for hand-made datasets (each test owns its own copy)."""
import os

import cv2
import numpy as np


def random_image(rng, h, w, gray=False):
    """A random uint8 RGB (or gray) image."""
    shape = (h, w) if gray else (h, w, 3)
    return rng.integers(0, 256, shape, dtype=np.uint8)


def random_mask(rng, h, w, num_leaves=7):
    """A random leaf mask with every leaf present and blocky regions."""
    small = rng.integers(0, num_leaves, (max(1, h // 8), max(1, w // 8)),
                         dtype=np.uint8)
    mask = cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST)
    mask[:num_leaves, 0] = np.arange(num_leaves, dtype=np.uint8)
    return mask


def write_pascal_part(root, ids, sizes=None, split='train_id.txt', seed=0,
                      trailing_newline=True):
    """Write a Pascal-part layout; returns {id: mask}."""
    rng = np.random.default_rng(seed)
    os.makedirs(root / 'JPEGImages', exist_ok=True)
    os.makedirs(root / 'gt_masks', exist_ok=True)
    masks = {}
    for k, i in enumerate(ids):
        h, w = (sizes[k] if sizes else (40 + 3 * k, 56 + 5 * k))
        cv2.imwrite(str(root / 'JPEGImages' / f'{i}.jpg'),
                    random_image(rng, h, w))
        masks[i] = random_mask(rng, h, w)
        np.save(root / 'gt_masks' / f'{i}.npy', masks[i])
    text = '\n'.join(ids) + ('\n' if trailing_newline else '')
    (root / split).write_text(text)
    return masks
