"""The photos of real people that installed packages ship (the demo's)."""
import cv2
import pytest

from mmhierseg.utils import sample_photos as sp


def test_sample_photos_are_readable_photos():
    paths = sp.sample_photos()
    assert [p.rsplit('/', 1)[-1] for p in paths] == [
        'bus.jpg', 'zidane.jpg', 'grace_hopper.jpg']
    for path in paths:
        img = cv2.imread(path)
        assert img is not None and min(img.shape[:2]) >= 400


def test_missing_photo_is_named(monkeypatch):
    monkeypatch.setattr(sp, 'SAMPLE_PHOTOS', (
        ('ultralytics', 'assets/bus.jpg'), ('no_such_pkg_x', 'a.jpg'),
        ('ultralytics', 'assets/nope.jpg')))
    with pytest.raises(FileNotFoundError, match='no_such_pkg_x.*not installed'):
        sp.sample_photos()
    assert len(sp.sample_photos(strict=False)) == 1
