"""PriorCache: content keys, LRU bound, disk tier."""
import os

import numpy as np
import pytest

from mmhierseg.models.stems.prior_cache import PriorCache


def _image(seed, shape=(12, 16, 3)):
    return np.random.default_rng(seed).integers(0, 256, shape, np.uint8)


def _priors(seed, shape=(3, 12, 16)):
    return (np.random.default_rng(seed).random(shape) > 0.5).astype(np.uint8)


def test_key_depends_on_content_shape_and_namespace():
    cache = PriorCache(namespace='a')
    img = _image(0)
    assert cache.key(img) == cache.key(img.copy())
    changed = img.copy()
    changed[3, 4, 1] ^= 1
    assert cache.key(changed) != cache.key(img)
    assert cache.key(img.reshape(16, 12, 3)) != cache.key(img)
    assert PriorCache(namespace='b').key(img) != cache.key(img)


def test_roundtrip_and_lru_bound():
    cache = PriorCache(max_items=2)
    keys = [cache.key(_image(i)) for i in range(3)]
    cache.put(keys[0], _priors(0))
    cache.put(keys[1], _priors(1))
    np.testing.assert_array_equal(cache.get(keys[0]), _priors(0))  # recent
    cache.put(keys[2], _priors(2))  # evicts keys[1], the least recent
    assert len(cache) == 2
    assert cache.get(keys[1]) is None
    np.testing.assert_array_equal(cache.get(keys[0]), _priors(0))
    np.testing.assert_array_equal(cache.get(keys[2]), _priors(2))
    assert cache.hits == 3 and cache.misses == 1
    with pytest.raises(ValueError, match='binary'):
        cache.put(keys[0], np.full((1, 2, 2), 0.5, np.float32))


def test_disk_tier_survives_a_new_cache(tmp_path):
    first = PriorCache(max_items=0, dir=str(tmp_path), namespace='x')
    key = first.key(_image(5))
    first.put(key, _priors(5))
    assert len(first) == 0  # no memory tier
    files = [f for _, _, fs in os.walk(tmp_path) for f in fs]
    assert files == [key + '.npz']
    second = PriorCache(max_items=4, dir=str(tmp_path), namespace='x')
    np.testing.assert_array_equal(second.get(key), _priors(5))
    assert len(second) == 1  # promoted to memory
    # a corrupt file is a miss, not a crash
    path = os.path.join(str(tmp_path), key[:2], key + '.npz')
    with open(path, 'wb') as f:
        f.write(b'not an npz')
    assert PriorCache(dir=str(tmp_path), namespace='x').get(key) is None
