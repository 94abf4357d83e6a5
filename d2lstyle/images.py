"""Reading, checking and writing images: the errors a reader sees for a bad file.

Every problem becomes an ``ImageError`` whose one-line message names the file, says what is
wrong and what to do. What can be used is converted to RGB:

* grayscale and 16-bit images are scaled to 8-bit RGB;
* transparent images (RGBA, LA, palettes with transparency) are composited on white, as a
  viewer shows them on a white page;
* CMYK is converted; the camera's EXIF orientation is applied.
"""
import os
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from . import D2lStyleError
from .atomic import atomic_write

# VGG's four max-pools before conv5_1 halve the image four times; below 32 pixels the
# deepest style layer would see one or two positions and its Gram matrix means little.
MIN_SIDE = 32
SUFFIXES = {'.png': 'PNG', '.jpg': 'JPEG', '.jpeg': 'JPEG'}


class ImageError(D2lStyleError):
    pass


def read_image(path):
    """Open an image file as a fully loaded RGB Pillow image, or raise ImageError."""
    path = Path(path)
    if not path.exists():
        raise ImageError(f'{path}: no such file; check the path')
    if path.is_dir():
        raise ImageError(f'{path}: is a directory, not an image file')
    if not os.access(path, os.R_OK):
        raise ImageError(f'{path}: permission denied; make the file readable')
    img = _open(path)
    if min(img.size) < MIN_SIDE:
        raise ImageError(f'{path}: {img.size[0]}x{img.size[1]} pixels is too small for the '
                         f'network; use an image at least {MIN_SIDE} pixels on each side')
    return _to_rgb(ImageOps.exif_transpose(img))


def _open(path):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore', Image.DecompressionBombWarning)
            img = Image.open(path)
            img.load()  # decode now, so that a truncated file fails here
        return img
    except Image.DecompressionBombError as err:
        raise ImageError(
            f'{path}: too many pixels for Pillow ({err}); downscale the file, or raise the '
            f'limit with PIL.Image.MAX_IMAGE_PIXELS = N (now {Image.MAX_IMAGE_PIXELS})') from None
    except UnidentifiedImageError:
        raise ImageError(f'{path}: not an image file Pillow can read') from None
    except (OSError, SyntaxError, ValueError) as err:
        raise ImageError(f'{path}: corrupt or truncated image ({err}); '
                         're-export or download it again') from None


def _to_rgb(img):
    if img.mode in ('I;16', 'I;16B', 'I;16L', 'I'):
        # Pillow's convert('L') clips 16-bit values instead of scaling them
        pixels = np.asarray(img, dtype=np.float64)
        peak = 65535 if img.mode.startswith('I;16') or pixels.max() > 255 else 255
        img = Image.fromarray((pixels * 255 / peak).round().clip(0, 255).astype(np.uint8))
    if img.mode == 'P' and 'transparency' in img.info:
        img = img.convert('RGBA')
    if img.mode in ('RGBA', 'LA', 'PA'):
        img = img.convert('RGBA')
        white = Image.new('RGBA', img.size, (255, 255, 255, 255))
        img = Image.alpha_composite(white, img)
    return img.convert('RGB')


def check_shape(shape):
    """(width, height) as ints, or ImageError saying which value is unusable and why."""
    try:
        width, height = shape
    except (TypeError, ValueError):
        raise ImageError(f'image size {shape!r}: give (width, height)') from None
    for name, value in (('width', width), ('height', height)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise ImageError(f'image {name} {value!r}: must be a whole number of pixels')
        if value <= 0:
            raise ImageError(f'image {name} {value}: size must be positive')
        if value < MIN_SIDE:
            raise ImageError(f'image {name} {value}: below the network minimum of '
                             f'{MIN_SIDE} pixels')
    return int(width), int(height)


def save_image(img, path):
    """Write img atomically (a temporary file, then a rename); create the folder if needed."""
    path = Path(path)
    fmt = SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise ImageError(f'{path}: cannot write {path.suffix or "files without a suffix"}; '
                         f'use one of {", ".join(SUFFIXES)}')
    with atomic_write(path) as f:
        img.save(f, format=fmt)
