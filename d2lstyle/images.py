"""Reading, checking and writing images: the errors a reader sees for a bad file.

Every problem becomes an ``ImageError`` whose one-line message names the file, says what is
wrong and what to do. Whatever can be used is converted to 8-bit RGB:

* grayscale becomes three equal channels; 16-bit images keep their high byte (65535 -> 255,
  32768 -> 128), as Pillow itself does for 16-bit RGB PNGs;
* transparent images (RGBA, LA, palettes or grayscale with a transparent colour) are
  composited on white: paintings and photos with transparency are shown on a white page, as
  a viewer would show them, rather than on the black that dropping alpha would give;
* CMYK is converted by Pillow; the camera's EXIF orientation is applied, so a portrait photo
  is portrait.
"""
import errno
import os
import re
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from . import D2lStyleError
from .atomic import atomic_write

# VGG19 max-pools four times before conv5_1, halving the image each time: a side needs 16
# pixels to reach that layer at all, and at 32 it is 2 positions wide, which is the least
# that a Gram matrix of the deepest style layer, and so style transfer, can mean anything at.
MIN_SIDE = 32
SUFFIXES = {'.png': 'PNG', '.jpg': 'JPEG', '.jpeg': 'JPEG'}
# Pillow's default JPEG quality (75) blurs the fine brush strokes style transfer makes.
SAVE_OPTIONS = {'PNG': {}, 'JPEG': {'quality': 95}}
ALPHA_MODES = ('RGBA', 'RGBa', 'LA', 'PA')


class ImageError(D2lStyleError):
    pass


def read_image(path):
    """Open an image file as a fully loaded 8-bit RGB Pillow image, or raise ImageError.

    Transparent pixels are composited on white (see the module's docstring); the image must
    be at least ``MIN_SIDE`` pixels on each side.
    """
    path = Path(path)
    img = _load(path)
    if min(img.size) < MIN_SIDE:
        raise ImageError(f'{path}: {img.size[0]}x{img.size[1]} pixels is too small for the '
                         f'network; use an image at least {MIN_SIDE} pixels on each side')
    return _to_rgb(img)


def _load(path):
    """Decode the whole file now, so that a truncated one fails here and not mid-chapter."""
    try:
        with warnings.catch_warnings():
            # Pillow warns above MAX_IMAGE_PIXELS and refuses above twice that; only the
            # refusal matters, and it is reported below.
            warnings.simplefilter('ignore', Image.DecompressionBombWarning)
            with Image.open(path) as img:
                img.load()
                return ImageOps.exif_transpose(img)
    except FileNotFoundError:
        raise ImageError(f'{path}: no such file (looked for {path.absolute()}); '
                         'check the name and the folder') from None
    except (IsADirectoryError, PermissionError):
        # Windows answers PermissionError for a directory too.
        if os.path.isdir(path):
            raise ImageError(f'{path}: is a directory, not an image file; '
                             'name a file in it') from None
        raise ImageError(f'{path}: permission denied; make the file (and its folder) '
                         'readable, or copy it somewhere you can read') from None
    except Image.DecompressionBombError as err:
        raise ImageError(_bomb_message(path, err)) from None
    except UnidentifiedImageError:
        raise ImageError(f'{path}: not an image file Pillow can read; '
                         'give a PNG or JPEG') from None
    except (OSError, SyntaxError, ValueError) as err:
        if getattr(err, 'errno', None) == errno.ELOOP:
            raise ImageError(f'{path}: a loop of symbolic links, which leads to no file; '
                             'point the link at a real file') from None
        raise ImageError(f'{path}: corrupt or truncated image ({err}); '
                         're-export or download it again') from None


def _bomb_message(path, err):
    limit = Image.MAX_IMAGE_PIXELS
    # Pillow's error has the image's pixel count but no attribute for it.
    count = re.search(r'\((\d+) pixels\)', str(err))
    count = f'{count.group(1)} pixels' if count else 'the image'
    return (f'{path}: too many pixels ({count}) for Pillow, which refuses more than '
            f'2 x PIL.Image.MAX_IMAGE_PIXELS = {2 * limit} as a possible decompression bomb; '
            f'if you trust the file, set PIL.Image.MAX_IMAGE_PIXELS higher (it is {limit}), '
            'or downscale the file first')


def _to_rgb(img):
    if img.mode.startswith('I'):
        # Pillow's convert('L') clips 16-bit values at 255 instead of scaling them. Mode 'I'
        # counts as 16-bit too: older Pillow opens 16-bit gray PNGs as 'I'.
        high_bytes = np.asarray(img).astype(np.int64).clip(0, 65535) >> 8
        img = Image.fromarray(high_bytes.astype(np.uint8))
    if img.mode in ALPHA_MODES or 'transparency' in img.info:
        white = Image.new('RGBA', img.size, (255, 255, 255, 255))
        img = Image.alpha_composite(white, img.convert('RGBA'))
    return img.convert('RGB')


def check_shape(shape):
    """``(width, height)`` as ints, or ImageError saying which value is unusable and why."""
    try:
        width, height = shape
    except (TypeError, ValueError):
        raise ImageError(f'image size {shape!r}: give (width, height), '
                         'for example (300, 200)') from None
    for name, value in (('width', width), ('height', height)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise ImageError(f'image {name} {value!r}: must be a whole number of pixels')
        if value <= 0:
            raise ImageError(f'image {name} {value}: size must be positive')
        if value < MIN_SIDE:
            raise ImageError(f'image {name} {value}: below the network minimum of {MIN_SIDE} '
                             "pixels (VGG's pooling leaves too little for the style layers)")
    return int(width), int(height)


def save_image(img, path):
    """Write a Pillow image as PNG or JPEG (by suffix) atomically, creating the folder.

    The image goes into a temporary file beside ``path`` that replaces it in one rename, so
    an interrupted run leaves the old file or the new one, never half of one.
    """
    path = Path(path)
    fmt = SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise ImageError(f'{path}: cannot write {path.suffix or "a file without a suffix"}; '
                         f'use one of {", ".join(SUFFIXES)}')
    with atomic_write(path) as f:
        img.save(f, format=fmt, **SAVE_OPTIONS[fmt])


def stage_shape(size, long_side, scale=1.0):
    """(width, height) with the long side ``long_side * scale`` and the aspect of ``size``."""
    width, height = size
    factor = long_side * scale / max(width, height)
    return max(1, round(width * factor)), max(1, round(height * factor))
