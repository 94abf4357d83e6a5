"""Stages too large for one pass, optimised in tiles, in bounded memory (``d2lstyle stylize``).

A pass's peak memory grows with the pixels it sees (about 4 GB per megapixel, ``memory.py``),
so a stage larger than ``TILE_MEGAPIXELS`` is cut into equal tiles that overlap by at least
``OVERLAP`` pixels. The image, its gradient and the optimiser's state stay whole; only one
tile's activations are in memory at a time. Each evaluation passes every tile through chapter
2's ``StyleLoss`` with

* the content features of the same crop of the photograph (computed once per stage);
* the stage's Gram targets, which are global statistics, the same for every tile;
* the tile's own TV loss.

Each tile's gradient is weighted by a window that falls linearly to zero across the overlap,
and the windows of all tiles add up to one at every pixel: the step sees one smooth gradient,
with no border where a tile's zero padding could draw a seam. The blended gradient is not
the gradient of one function, so tiled stages take Adam's steps, never L-BFGS's line search.

The painting's Gram targets are taken tile by tile too: a Gram matrix is a sum over positions,
so the whole image's is its non-overlapping tiles' Gram matrices weighted by their positions.
"""
import math
import time
from dataclasses import dataclass

import numpy as np
from mxnet import autograd, nd

from . import mxnet as d2l

# Tiles of at most this many megapixels keep a 1200x800 stage under 4 GB (two tiles) and any
# size under 6 GB; benchmarks/time_to_quality.py measures both.
TILE_MEGAPIXELS = 0.6
# Overlap of neighbouring tiles, in pixels, across which their gradients are blended.
OVERLAP = 64


@dataclass(frozen=True)
class Grid:
    """Equal tiles of ``tile`` = (width, height) at the top-left corners ``xs`` x ``ys``."""
    shape: tuple
    tile: tuple
    xs: tuple
    ys: tuple

    def __len__(self):
        return len(self.xs) * len(self.ys)

    def regions(self):
        """(x0, y0, x1, y1) of each tile, row by row."""
        w, h = self.tile
        return [(x, y, x + w, y + h) for y in self.ys for x in self.xs]


def starts(length, tile, count):
    """``count`` start offsets of tiles of ``tile`` pixels spread evenly over ``length``."""
    if count == 1:
        return (0,)
    return tuple(round(i * (length - tile) / (count - 1)) for i in range(count))


def grid(shape, max_megapixels=None, overlap=None):
    """The fewest equal tiles of at most ``max_megapixels`` that cover an image of ``shape``
    = (width, height), neighbours overlapping by at least ``overlap`` pixels. One tile (the
    whole image) when it fits. Defaults: ``TILE_MEGAPIXELS`` and ``OVERLAP``."""
    width, height = shape
    max_megapixels = max_megapixels or TILE_MEGAPIXELS
    overlap = OVERLAP if overlap is None else overlap
    limit = max_megapixels * 1e6
    best = None
    for nx in range(1, width // max(overlap, 1) + 2):
        for ny in range(1, height // max(overlap, 1) + 2):
            w = min(width, math.ceil((width + (nx - 1) * overlap) / nx))
            h = min(height, math.ceil((height + (ny - 1) * overlap) / ny))
            if w * h <= limit and (best is None or (nx * ny, w * h) < best[0]):
                best = (nx * ny, w * h), (w, h), nx, ny
            if w * h <= limit:
                break  # more rows only add tiles
    if best is None:
        raise ValueError(f'no tiling of {width}x{height} into tiles of {max_megapixels} '
                         f'megapixels with an overlap of {overlap}')
    _, (w, h), nx, ny = best
    return Grid(shape, (w, h), starts(width, w, nx), starts(height, h, ny))


def ramp(starts_, tile, length):
    """Per tile along one axis: 1 inside, rising linearly across its overlap with the
    previous tile and falling across its overlap with the next one."""
    ramps = []
    for i, s in enumerate(starts_):
        r = np.ones(tile)
        if i > 0:
            n = starts_[i - 1] + tile - s
            r[:n] = np.minimum(r[:n], (np.arange(n) + 0.5) / n)
        if i + 1 < len(starts_):
            n = s + tile - starts_[i + 1]
            r[tile - n:] = np.minimum(r[tile - n:], (n - np.arange(n) - 0.5) / n)
        ramps.append(r)
    return ramps


def windows(g):
    """Each tile's blending weights, (tile height, tile width), adding up to one at every
    pixel of the image."""
    (w, h), (width, height) = g.tile, g.shape
    raw = [np.outer(ry, rx) for ry in ramp(g.ys, h, height) for rx in ramp(g.xs, w, width)]
    total = np.zeros((height, width))
    for (x0, y0, x1, y1), r in zip(g.regions(), raw):
        total[y0:y1, x0:x1] += r
    return [r / total[y0:y1, x0:x1] for (x0, y0, x1, y1), r in zip(g.regions(), raw)]


def crop(X, region):
    x0, y0, x1, y1 = region
    return X[:, :, y0:y1, x0:x1]


def style_grams(features, style_X, max_megapixels=None):
    """Gram matrices of the style layers of the painting ``style_X`` (normalised, batch of
    one), computed over non-overlapping tiles and weighted by their positions."""
    g = grid((style_X.shape[3], style_X.shape[2]), max_megapixels, overlap=0)
    if len(g) == 1:
        return [d2l.gram(Y) for Y in features(style_X)[1]]
    sums, positions = None, None
    for region in g.regions():
        styles_Y = features(crop(style_X, region))[1]
        n = [Y.shape[2] * Y.shape[3] for Y in styles_Y]
        part = [d2l.gram(Y) * k for Y, k in zip(styles_Y, n)]
        sums = part if sums is None else [a + b for a, b in zip(sums, part)]
        positions = n if positions is None else [a + b for a, b in zip(positions, n)]
    return [s / k for s, k in zip(sums, positions)]


class TiledObjective:
    """Chapter 3's Objective for an image in tiles: f(X) -> (the tiles' mean loss, the
    window-blended gradient), with the same ``history``."""

    def __init__(self, loss, g, contents_Y, styles_Y_gram, ctx):
        self.loss, self.grid = loss, g
        self.targets = [d2l.loss_targets(Y, styles_Y_gram) for Y in contents_Y]
        self.windows = [nd.array(w[None, None], ctx=ctx, dtype='float32') for w in windows(g)]
        self.history, self.start = [], None

    def __call__(self, X):
        if self.start is None:
            self.start = time.perf_counter()
        grad, totals = nd.zeros_like(X), np.zeros(4)
        for region, targets, window in zip(self.grid.regions(), self.targets, self.windows):
            x0, y0, x1, y1 = region
            tile = crop(X, region)
            tile.attach_grad()
            with autograd.record():
                losses = self.loss(tile, *targets)
            losses[-1].backward()
            grad[:, :, y0:y1, x0:x1] += nd.broadcast_mul(tile.grad, window)
            totals += [float(l.asscalar()) for l in losses]
        values = list(totals / len(self.grid))
        self.history.append([time.perf_counter() - self.start] + values)
        return values[-1], grad


def seam_ratio(img, g):
    """How much sharper the image changes across the tiles' borders than elsewhere: the mean
    absolute difference of neighbouring pixels on the columns and rows where a tile begins or
    ends, over the same on all columns and rows. About 1 when no seam shows."""
    a = np.asarray(img, dtype=np.float64)
    dx = np.abs(np.diff(a, axis=1)).mean(axis=(0, 2))  # between column j and j+1
    dy = np.abs(np.diff(a, axis=0)).mean(axis=(1, 2))
    (w, h), (width, height) = g.tile, g.shape
    cols = sorted({x - 1 for x in g.xs if x > 0} | {x + w - 1 for x in g.xs if x + w < width})
    rows = sorted({y - 1 for y in g.ys if y > 0} | {y + h - 1 for y in g.ys if y + h < height})
    borders = np.concatenate([dx[cols], dy[rows]])
    return float(borders.mean() / np.concatenate([dx, dy]).mean())
