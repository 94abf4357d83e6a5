"""Every bad image gets a clear error naming the file; every usable one becomes 8-bit RGB.

The expected pixels are computed here with numpy, not by asking Pillow the same question.
"""
import os
import pwd
import shutil
import struct
import tempfile
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from d2lstyle.images import MIN_SIDE, ImageError, check_shape, read_image, save_image, stage_shape


def gradient(width=48, height=40):
    y, x = np.mgrid[:height, :width]
    return np.stack([x * 255 // width, y * 255 // height, (x + y) % 256], -1).astype(np.uint8)


def png16(array, color_type):
    """A 16-bit PNG by hand: Pillow reads 16-bit RGB(A) PNGs but has no mode to write them."""
    height, width = array.shape[:2]
    rows = b''.join(b'\0' + row.astype('>u2').tobytes() for row in array)

    def chunk(kind, data):
        crc = zlib.crc32(kind + data)
        return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', crc)

    header = struct.pack('>IIBBBBB', width, height, 16, color_type, 0, 0, 0)
    return (b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', header) + chunk(b'IDAT', zlib.compress(rows))
            + chunk(b'IEND', b''))


def on_white(color, alpha):
    """What a viewer shows: each channel blended with white by its alpha."""
    a = alpha.astype(np.float64)[..., None] / 255
    return np.round(color.astype(np.float64) * a + 255 * (1 - a))


def opened(path):
    """The file as Pillow opens it, for its mode and format, without leaving it open."""
    with Image.open(path) as img:
        img.load()
        return img


def read_rgb(path):
    img = read_image(path)
    assert isinstance(img, Image.Image) and img.mode == 'RGB'
    return np.asarray(img)


@pytest.fixture
def jpeg(tmp_path):
    path = tmp_path / 'photo.jpg'
    Image.fromarray(gradient()).save(path)
    return path


def refused(path, *words):
    with pytest.raises(ImageError) as err:
        read_image(path)
    assert type(err.value) is ImageError
    message = str(err.value)
    assert str(path) in message and '\n' not in message
    for word in words:
        assert word in message
    return message


def test_missing_path(tmp_path):
    refused(tmp_path / 'nope.jpg', 'no such file', 'check the name')


def test_directory(tmp_path):
    refused(tmp_path, 'is a directory')


def read_as(user, path):
    """What reading ``path`` raises, in a forked process that runs as ``user``."""
    entry = pwd.getpwnam(user)
    receive, send = os.pipe()
    if os.fork() == 0:  # the child: become the user, try, report, and leave at once
        try:
            os.setgid(entry.pw_gid)
            os.setuid(entry.pw_uid)
            read_image(path)
            os.write(send, b'read it')
        except ImageError as err:
            os.write(send, str(err).encode())
        finally:
            os._exit(0)
    os.close(send)
    with os.fdopen(receive) as f:
        message = f.read()
    os.wait()
    return message


def test_unreadable(tmp_path):
    """A file we may not read. Root reads any file, and CI runs as root, so there the reading
    runs in a forked process of the unprivileged user ``nobody``, in a folder it may enter."""
    folder = Path(tempfile.mkdtemp()) if os.geteuid() == 0 else tmp_path
    try:
        folder.chmod(0o755)
        path = folder / 'photo.jpg'
        Image.fromarray(gradient()).save(path)
        if os.geteuid():
            path.chmod(0)
            return refused(path, 'permission denied', 'readable')
        assert read_as('nobody', path) == 'read it'  # before: nobody can read it
        path.chmod(0)
        message = read_as('nobody', path)
        assert str(path) in message and 'permission denied' in message and 'readable' in message
        assert '\n' not in message
    finally:
        if folder != tmp_path:
            shutil.rmtree(folder)


def test_not_an_image(tmp_path):
    path = tmp_path / 'notes.jpg'
    path.write_text('not a picture')
    refused(path, 'not an image')


@pytest.mark.parametrize('suffix', ['.jpg', '.png'])
def test_truncated(tmp_path, suffix):
    path = tmp_path / f'cut{suffix}'
    Image.fromarray(gradient(200, 150)).save(path)
    path.write_bytes(path.read_bytes()[:path.stat().st_size // 2])
    refused(path, 'corrupt or truncated', 'download it again')


def test_decompression_bomb(jpeg, monkeypatch):
    monkeypatch.setattr(Image, 'MAX_IMAGE_PIXELS', 400)
    message = refused(jpeg, 'too many pixels', 'PIL.Image.MAX_IMAGE_PIXELS', 'downscale')
    assert '1920 pixels' in message          # 48 x 40, the image's pixel count
    assert '= 800' in message and 'it is 400' in message  # Pillow refuses at twice the setting


def test_decompression_bomb_warning_is_no_error(jpeg, monkeypatch):
    monkeypatch.setattr(Image, 'MAX_IMAGE_PIXELS', 1000)  # 1920 pixels: warned, not refused
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        assert read_image(jpeg).size == (48, 40)


@pytest.mark.parametrize('width, height', [(MIN_SIDE - 1, 50), (50, MIN_SIDE - 1)])
def test_too_small(tmp_path, width, height):
    path = tmp_path / 'tiny.png'
    Image.fromarray(gradient(width, height)).save(path)
    refused(path, f'{width}x{height}', 'too small', f'at least {MIN_SIDE}')


def test_smallest_allowed_side_is_read(tmp_path):
    path = tmp_path / 'small.png'
    Image.fromarray(gradient(MIN_SIDE, MIN_SIDE)).save(path)
    np.testing.assert_array_equal(read_rgb(path), gradient(MIN_SIDE, MIN_SIDE))


def test_image_is_fully_loaded(tmp_path):
    path = tmp_path / 'gone.png'
    Image.fromarray(gradient()).save(path)
    img = read_image(path)
    path.unlink()  # the pixels must already be in memory
    np.testing.assert_array_equal(np.asarray(img), gradient())


def test_grayscale_becomes_three_equal_channels(tmp_path):
    path = tmp_path / 'gray.png'
    gray = gradient()[..., 0]
    Image.fromarray(gray).save(path)
    np.testing.assert_array_equal(read_rgb(path), np.stack([gray] * 3, -1))


def test_16_bit_gray_png_is_scaled_not_clipped(tmp_path):
    path = tmp_path / 'deep.png'
    values = np.arange(48 * 40, dtype=np.uint32).reshape(40, 48) * 34 % 65536
    values[0, :4] = [0, 257, 32768, 65535]
    Image.fromarray(values.astype(np.uint16)).save(path)
    assert opened(path).mode.startswith('I')
    rgb = read_rgb(path)
    assert list(rgb[0, :4, 0]) == [0, 1, 128, 255]
    np.testing.assert_array_equal(rgb, np.stack([values >> 8] * 3, -1))


def test_32_bit_integer_image_is_read_as_16_bit(tmp_path):
    path = tmp_path / 'deep.tif'  # how older Pillow opens 16-bit gray PNGs: mode 'I'
    values = np.array([[0, 257, 32768, 65535, 70000, -5]] * 40, np.int32).repeat(8, axis=1)
    Image.fromarray(values).save(path)
    assert opened(path).mode == 'I'
    expected = values.clip(0, 65535) >> 8
    np.testing.assert_array_equal(read_rgb(path), np.stack([expected] * 3, -1))


def test_16_bit_rgb_png(tmp_path):
    path = tmp_path / 'deep_rgb.png'
    values = np.random.default_rng(0).integers(0, 65536, (40, 48, 3), dtype=np.uint16)
    values[0, 0] = [65535, 32768, 257]
    path.write_bytes(png16(values, color_type=2))
    rgb = read_rgb(path)
    assert tuple(rgb[0, 0]) == (255, 128, 1)
    np.testing.assert_array_equal(rgb, values >> 8)


def test_rgba_is_composited_on_white(tmp_path):
    path = tmp_path / 'alpha.png'
    color = gradient()
    alpha = np.tile(np.linspace(0, 255, 48).round().astype(np.uint8), (40, 1))
    Image.fromarray(np.dstack([color, alpha])).save(path)
    rgb = read_rgb(path)
    assert tuple(rgb[5, 0]) == (255, 255, 255)  # fully transparent: the white page
    np.testing.assert_allclose(rgb, on_white(color, alpha), atol=1)


def test_16_bit_rgba_png_is_composited_on_white(tmp_path):
    path = tmp_path / 'deep_alpha.png'
    values = np.random.default_rng(1).integers(0, 65536, (40, 48, 4), dtype=np.uint16)
    path.write_bytes(png16(values, color_type=6))
    expected = on_white(values[..., :3] >> 8, values[..., 3] >> 8)
    np.testing.assert_allclose(read_rgb(path), expected, atol=1)


def test_gray_with_alpha_is_composited_on_white(tmp_path):
    path = tmp_path / 'gray_alpha.png'
    gray, alpha = gradient()[..., 0], gradient()[..., 1]
    Image.merge('LA', [Image.fromarray(gray), Image.fromarray(alpha)]).save(path)
    assert opened(path).mode == 'LA'
    expected = on_white(np.stack([gray] * 3, -1), alpha)
    np.testing.assert_allclose(read_rgb(path), expected, atol=1)


def test_palette_without_transparency(tmp_path):
    path = tmp_path / 'p.png'
    img = Image.fromarray(gradient()).convert('P')
    img.save(path)
    palette = np.array(img.getpalette(), np.uint8).reshape(-1, 3)
    np.testing.assert_array_equal(read_rgb(path), palette[np.asarray(img)])


def test_palette_with_transparency(tmp_path):
    path = tmp_path / 'pt.png'
    img = Image.fromarray(gradient()).convert('P')
    indices = np.asarray(img)
    clear = int(indices[0, 0])
    img.save(path, transparency=clear)
    palette = np.array(img.getpalette(), np.uint8).reshape(-1, 3)
    expected = np.where((indices == clear)[..., None], 255, palette[indices])
    assert (indices == clear).any() and (indices != clear).any()
    np.testing.assert_array_equal(read_rgb(path), expected)


def test_gray_with_a_transparent_value(tmp_path):
    path = tmp_path / 'gray_trns.png'
    gray = gradient()[..., 0]
    Image.fromarray(gray).save(path, transparency=int(gray[0, 0]))
    expected = np.where(gray == gray[0, 0], 255, gray)
    np.testing.assert_array_equal(read_rgb(path), np.stack([expected] * 3, -1))


def test_cmyk_jpeg(tmp_path):
    path = tmp_path / 'print.jpg'
    cmyk = np.zeros((64, 64, 4), np.uint8)  # flat 32-pixel patches: JPEG keeps them flat
    cmyk[:32, :32] = 200, 0, 0, 0
    cmyk[:32, 32:] = 0, 100, 50, 30
    cmyk[32:, :32] = 10, 20, 30, 200
    cmyk[32:, 32:] = 255, 255, 0, 0
    Image.merge('CMYK', [Image.fromarray(c) for c in np.moveaxis(cmyk, -1, 0)]).save(
        path, quality=100)
    assert opened(path).mode == 'CMYK'
    ink, black = cmyk[..., :3].astype(np.float64), cmyk[..., 3:].astype(np.float64)
    expected = (255 - ink) * (255 - black) / 255
    centres = np.s_[8:24, 8:24], np.s_[8:24, 40:56], np.s_[40:56, 8:24], np.s_[40:56, 40:56]
    rgb = read_rgb(path)
    for centre in centres:
        np.testing.assert_allclose(rgb[centre], expected[centre], atol=2)


def test_exif_orientation_is_applied(tmp_path):
    path = tmp_path / 'camera.jpg'
    img = Image.fromarray(gradient(40, 60))
    exif = img.getexif()
    exif[0x0112] = 6  # the camera was turned: rotate 90 degrees clockwise to display
    img.save(path, exif=exif)
    stored = np.asarray(opened(path))
    rgb = read_rgb(path)
    assert rgb.shape == (40, 60, 3)  # (height, width): 60x40 as Pillow counts it
    np.testing.assert_array_equal(rgb, np.rot90(stored, k=-1))


@pytest.mark.parametrize('shape, words', [
    ((0, 200), 'image width 0: size must be positive'),
    ((300, -5), 'image height -5: size must be positive'),
    ((10, 200), 'image width 10: below the network minimum of 32 pixels'),
    ((300, 31), 'image height 31: below the network minimum of 32'),
    (('a', 200), "image width 'a': must be a whole number"),
    ((300.5, 200), 'image width 300.5: must be a whole number'),
    ((300, True), 'image height True: must be a whole number'),
    (300, 'give (width, height)'),
    ((300, 200, 3), 'give (width, height)'),
])
def test_check_shape_refuses(shape, words):
    with pytest.raises(ImageError) as err:
        check_shape(shape)
    assert words in str(err.value)


def test_check_shape_accepts():
    shape = check_shape((300, 200))
    assert shape == (300, 200) and isinstance(shape, tuple)
    shape = check_shape(np.array([64, MIN_SIDE]))
    assert shape == (64, MIN_SIDE) and all(type(v) is int for v in shape)


def test_save_image_round_trip_creates_folder(tmp_path):
    path = tmp_path / 'new' / 'deeper' / 'out.png'
    save_image(Image.fromarray(gradient()), path)
    np.testing.assert_array_equal(read_rgb(path), gradient())


def test_save_image_jpeg_by_suffix(tmp_path):
    path = tmp_path / 'out.JPG'
    save_image(Image.fromarray(gradient()), path)
    assert opened(path).format == 'JPEG'
    error = np.abs(read_rgb(path).astype(np.int16) - gradient()).mean()
    assert error < 1  # 0.67 at quality 95; Pillow's default 75 gives 1.7


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


@pytest.mark.parametrize('name, words', [('out.gif', 'cannot write .gif'),
                                         ('out', 'cannot write a file without a suffix')])
def test_save_image_refuses_unknown_suffix(tmp_path, name, words):
    with pytest.raises(ImageError) as err:
        save_image(Image.fromarray(gradient()), tmp_path / name)
    assert type(err.value) is ImageError
    assert name in str(err.value) and words in str(err.value)
    assert 'use one of .png, .jpg, .jpeg' in str(err.value)
    assert not list(tmp_path.iterdir())


def test_saved_files_follow_the_umask(tmp_path):
    path = tmp_path / 'out.png'
    mask = os.umask(0o022)
    try:
        save_image(Image.fromarray(gradient()), path)
    finally:
        os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o644  # readable by a web server, unlike mkstemp's 0o600


def test_stage_shape_keeps_the_aspect_ratio():
    assert stage_shape((1024, 768), 300) == (300, 225)
    assert stage_shape((600, 800), 300) == (225, 300)
    assert stage_shape((300, 200), 300, scale=0.5) == (150, 100)
