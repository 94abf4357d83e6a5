"""The regions of ``stylize --mask`` (chapter 5's spatial control): read the mask files and
check them against the photograph and the paintings, before any work.

A mask is either one image with a flat colour per region (``--mask-colors`` names each
painting's colour, in the order of the paintings) or one grey image per painting (white: the
painting's region, grey: a share of it). A painting may be ``none``: its region keeps the
photograph's own texture. ``--style-masks`` take each painting's region of its own (white)."""
import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageColor

from . import D2lStyleError
from .images import read_image

NONE = 'none'      # a region left as the photograph
ALL = 'all'        # --style-masks: the whole painting
STRAY = 0.01       # pixels far from every --mask-colors colour: refused above this share
FAR = 60.0         # ... where "far" is this distance in RGB, grey levels
ASPECT = 0.01      # a mask of another shape than the photograph's: refused above this difference


@dataclass
class Regions:
    masks: np.ndarray   # (R, H, W) at the photograph's size, in [0, 1], adding up to at most 1
    styles: list        # each region's painting, a path, or None for the photograph
    style_masks: list   # each region's mask on its painting, (h, w) at the painting's size,
                        # or None for all of it


def read_regions(args, content_size):
    """The regions of ``args`` (``--mask``, ``--mask-colors``, ``--style-masks`` and the
    paintings) for a photograph of content_size = (width, height); a clear error for each bad
    mask."""
    styles = [None if str(p) == NONE else p for p in args.styles]
    if len(args.mask) == 1 and len(styles) > 1 or args.mask_colors:
        masks = color_regions(args.mask[0], args.mask_colors, len(styles))
    else:
        if len(args.mask) != len(styles):
            raise D2lStyleError(f'--mask has {len(args.mask)} files for {len(styles)} '
                                'paintings: give one grey mask per painting, or one mask with '
                                'a colour per painting and --mask-colors')
        masks = grey_regions(args.mask)
    names = [str(p) for p in args.mask]
    masks = fitted(masks, content_size, f'--mask {" ".join(names)}', 'the photograph')
    for painting, m in zip(args.styles, masks):
        if not m.any():
            raise D2lStyleError(f'--mask {" ".join(names)}: the region of {painting} is empty; '
                                'paint its region, or leave the painting out')
    return Regions(masks, styles, style_masks(args, styles))


def color_regions(path, colors, count):
    """One region per colour of --mask-colors: each pixel goes to the nearest colour."""
    if not colors or len(colors) != count:
        raise D2lStyleError(f'--mask {path} is one image for {count} paintings: name the colour '
                            f'of each painting\'s region, in their order, with --mask-colors '
                            f'({len(colors or [])} given)')
    rgb = np.array([parse_color(c) for c in colors], np.float64)
    pixels = np.asarray(read_image(path), np.float64)
    distance = np.linalg.norm(pixels[:, :, None, :] - rgb[None, None], axis=-1)  # H, W, R
    nearest = distance.argmin(axis=-1)
    stray = distance.min(axis=-1) > FAR
    if stray.mean() > STRAY:
        colour = tuple(int(v) for v in np.median(pixels[stray], axis=0))
        raise D2lStyleError(f'--mask {path}: {stray.mean():.0%} of it is a colour near '
                            f'#{bytes(colour).hex()} that --mask-colors does not name; give it '
                            f'a painting (or none) and its colour, or repaint it')
    return np.stack([(nearest == r).astype(np.float32) for r in range(count)])


def parse_color(text):
    try:
        return ImageColor.getrgb(text)[:3]
    except ValueError:
        raise D2lStyleError(f'--mask-colors {text}: not a colour; use a name such as red or a '
                            'hexadecimal colour such as #ff0000') from None


def grey_regions(paths):
    """One region per grey mask, white for all of a pixel; where masks overlap, their sum is
    brought down to 1."""
    masks = []
    for path in paths:
        masks.append(np.asarray(read_image(path).convert('L'), np.float32) / 255)
        if masks[-1].shape != masks[0].shape:
            raise D2lStyleError(f'--mask {path}: {masks[-1].shape[1]}x{masks[-1].shape[0]} '
                                f'pixels, but {paths[0]} has {masks[0].shape[1]}x'
                                f'{masks[0].shape[0]}; give every mask the same size')
    masks = np.stack(masks)
    return masks / np.maximum(masks.sum(axis=0), 1)


def fitted(masks, size, what, image):
    """The masks at size = (width, height), that of ``image``: resized where only the scale
    differs, refused where the shape does."""
    (w, h), (mw, mh) = size, masks.shape[:0:-1]
    if (mw, mh) == (w, h):
        return masks
    if abs(math.log((mw / mh) / (w / h))) > ASPECT:
        raise D2lStyleError(f'{what}: {mw}x{mh} pixels, but {image} is {w}x{h}; a mask must '
                            f'have the shape of {image} (it is resized only where the scale '
                            'differs): crop or redraw it')
    return np.stack([np.asarray(Image.fromarray(m).resize((w, h), Image.BILINEAR))
                     for m in masks]).clip(0, 1)


def style_masks(args, styles):
    """Each painting's own region (painting_mask), or None for all of it."""
    if not args.style_masks:
        return [None] * len(styles)
    if len(args.style_masks) != len(styles):
        raise D2lStyleError(f'--style-masks has {len(args.style_masks)} values for '
                            f'{len(styles)} paintings: give one per painting, {ALL} for all of '
                            'one')
    found = []
    for style, path in zip(styles, args.style_masks):
        if str(path) == ALL:
            found.append(None)
        elif style is None:
            raise D2lStyleError(f'--style-masks {path}: its region is left as the photograph '
                                f'(none), which takes no mask; use {ALL}')
        else:
            found.append(painting_mask(path, style))
    return found


def painting_mask(path, painting):
    """A painting's own region (H, W) in [0, 1] at the size of the painting (a path), refused
    where it is empty or of another shape."""
    m = np.asarray(read_image(path).convert('L'), np.float32) / 255
    if not m.any():
        raise D2lStyleError(f'--style-masks {path}: empty (black all over); paint the part of '
                            'the painting to take the style from in white')
    return fitted(m[None], read_image(painting).size, f'--style-masks {path}', painting)[0]
