"""Every bad image gets a clear error naming the file; every usable one becomes RGB."""
import os

import numpy as np
import pytest
from PIL import Image

from d2lstyle.images import MIN_SIDE, ImageError, check_shape, read_image, save_image


def gradient(width=48, height=40):
    y, x = np.mgrid[:height, :width]
    return np.stack([x * 255 // width, y * 255 // height, (x + y) % 256], -1).astype(np.uint8)


@pytest.fixture
def jpeg(tmp_path):
    path = tmp_path / 'photo.jpg'
    Image.fromarray(gradient()).save(path)
    return path


def refused(path, *words):
    with pytest.raises(ImageError) as err:
        read_image(path)
    message = str(err.value)
    assert str(path) in message and '\n' not in message
    for word in words:
        assert word in message
    return message


def test_missing_path(tmp_path):
    refused(tmp_path / 'nope.jpg', 'no such file')


def test_directory(tmp_path):
    refused(tmp_path, 'is a directory')


def test_unreadable(jpeg):
    jpeg.chmod(0)
    try:
        if os.access(jpeg, os.R_OK):
            pytest.skip('running as root: permissions do not stop reading')
        refused(jpeg, 'permission denied')
    finally:
        jpeg.chmod(0o644)


def test_not_an_image(tmp_path):
    path = tmp_path / 'notes.jpg'
    path.write_text('not a picture')
    refused(path, 'not an image')


@pytest.mark.parametrize('suffix', ['.jpg', '.png'])
def test_truncated(tmp_path, suffix):
    path = tmp_path / f'cut{suffix}'
    Image.fromarray(gradient(200, 150)).save(path)
    path.write_bytes(path.read_bytes()[:path.stat().st_size // 2])
    refused(path, 'corrupt or truncated')


def test_decompression_bomb(jpeg, monkeypatch):
    monkeypatch.setattr(Image, 'MAX_IMAGE_PIXELS', 400)
    message = refused(jpeg, 'too many pixels', 'MAX_IMAGE_PIXELS', '400')
    assert '1920' in message  # the image's pixel count


def test_too_small(tmp_path):
    path = tmp_path / 'tiny.png'
    Image.fromarray(gradient(MIN_SIDE - 1, 50)).save(path)
    refused(path, f'{MIN_SIDE - 1}x50', f'at least {MIN_SIDE}')


def test_grayscale_becomes_three_equal_channels(tmp_path):
    path = tmp_path / 'gray.png'
    gray = gradient()[..., 0]
    Image.fromarray(gray).save(path)
    np.testing.assert_array_equal(np.asarray(read_image(path)), np.stack([gray] * 3, -1))


def test_16_bit_is_scaled_not_clipped(tmp_path):
    path = tmp_path / 'deep.png'
    values = np.array([[0, 257, 32768, 65535]] * 40, dtype=np.uint16).repeat(12, axis=1)
    Image.fromarray(values).save(path)
    assert Image.open(path).mode.startswith('I')
    rgb = np.asarray(read_image(path))
    np.testing.assert_array_equal(rgb[0, ::12, 0], [0, 1, 128, 255])
    assert (rgb[..., 0] == rgb[..., 2]).all()


def test_rgba_is_composited_on_white(tmp_path):
    path = tmp_path / 'alpha.png'
    rgba = np.zeros((40, 40, 4), np.uint8)
    rgba[..., 0] = 200
    rgba[:, :20, 3] = 255   # left half opaque red, right half transparent
    rgba[:, 20:, 3] = 0
    Image.fromarray(rgba).save(path)
    rgb = np.asarray(read_image(path))
    assert tuple(rgb[5, 5]) == (200, 0, 0) and tuple(rgb[5, 30]) == (255, 255, 255)


def test_palette_with_and_without_transparency(tmp_path):
    opaque = Image.fromarray(gradient()).convert('P')
    opaque.save(tmp_path / 'p.png')
    expected = np.asarray(opaque.convert('RGB'))
    np.testing.assert_array_equal(np.asarray(read_image(tmp_path / 'p.png')), expected)
    clear = opaque.copy()
    clear.info['transparency'] = int(np.asarray(opaque)[0, 0])
    clear.save(tmp_path / 'pt.png', transparency=clear.info['transparency'])
    assert tuple(np.asarray(read_image(tmp_path / 'pt.png'))[0, 0]) == (255, 255, 255)


def test_cmyk_jpeg(tmp_path):
    path = tmp_path / 'print.jpg'
    Image.fromarray(gradient()).convert('CMYK').save(path)
    img = read_image(path)
    assert img.mode == 'RGB'
    expected = np.asarray(Image.open(path).convert('RGB'), np.int16)
    np.testing.assert_array_equal(np.asarray(img, np.int16), expected)


def test_exif_orientation_is_applied(tmp_path):
    path = tmp_path / 'camera.jpg'
    img = Image.fromarray(gradient(40, 60))
    exif = img.getexif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    img.save(path, exif=exif)
    assert read_image(path).size == (60, 40)


@pytest.mark.parametrize('shape, words', [
    ((0, 200), 'width 0: size must be positive'),
    ((300, -5), 'height -5: size must be positive'),
    ((10, 200), 'width 10: below the network minimum of 32'),
    (('a', 200), "width 'a': must be a whole number"),
    ((300.5, 200), 'must be a whole number'),
    (300, 'give (width, height)'),
])
def test_check_shape_refuses(shape, words):
    with pytest.raises(ImageError) as err:
        check_shape(shape)
    assert words in str(err.value)


def test_check_shape_accepts():
    assert check_shape((300, 200)) == (300, 200)
    assert check_shape(np.array([64, 48])) == (64, 48)


def test_save_image_round_trip_creates_folder(tmp_path):
    path = tmp_path / 'new' / 'out.png'
    save_image(Image.fromarray(gradient()), path)
    np.testing.assert_array_equal(np.asarray(Image.open(path)), gradient())


def test_save_image_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / 'out.png'
    save_image(Image.fromarray(gradient()), path)
    before = path.read_bytes()

    def broken(self, f, *args, **kwargs):
        f.write(b'half an image')
        raise KeyboardInterrupt

    monkeypatch.setattr(Image.Image, 'save', broken)
    with pytest.raises(KeyboardInterrupt):
        save_image(Image.fromarray(gradient()[::-1]), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ['out.png']


def test_save_image_refuses_unknown_suffix(tmp_path):
    with pytest.raises(ImageError, match=r'out.gif: cannot write .gif; use one of .png'):
        save_image(Image.fromarray(gradient()), tmp_path / 'out.gif')


def test_saved_files_are_readable_by_others(tmp_path):
    path = tmp_path / 'out.png'
    save_image(Image.fromarray(gradient()), path)
    assert path.stat().st_mode & 0o044 == 0o044
