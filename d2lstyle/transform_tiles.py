"""A transform network over a photograph too large for one pass, in tiles, with the result
of one pass.

Every layer of chapter 6's network is local except instance normalisation, whose mean and
variance are taken over the whole image. Cutting the photograph into tiles and normalising
each by its own statistics would give each tile its own brightness and contrast, and the
borders would show. So the statistics are computed first, for the whole image, one
normalisation layer at a time: tiles pass through the network up to layer k (the layers
before it normalised by their whole-image statistics, already known), and their sums give
layer k's. With all of them known, every layer is local, and each tile, grown by a margin
wider than the network's receptive field, gives exactly its own part of the result.

This module cuts the tiles, without a framework; ``frameworks.mxnet_tiles`` passes them through
MXNet's exported network, each InstanceNorm rebuilt as the affine map ``x * scale + shift``
whose scale and shift are those statistics folded with its gamma and beta. The price is time:
about as many partial passes as there are normalisation layers.
"""
import math
from dataclasses import dataclass

import numpy as np

# Two stride-2 layers: tiles start and end on multiples of 4, so that the tiles' pixels meet
# the strided convolutions and upsamplings on the same grid as the whole image's.
ALIGN = 4
# Wider than the receptive field of chapter 6's network (54 pixels each side: 9x9 and 3x3
# convolutions at full resolution, ten 3x3 at a quarter of it, a few between): the part of a
# tile further than this from its cut edges does not depend on what lies beyond them.
MARGIN = 64


@dataclass(frozen=True)
class Tile:
    box: tuple   # (x0, y0, x1, y1) that passes through the network
    core: tuple  # (x0, y0, x1, y1) of the result that this tile gives


def spans(length, count):
    """``count`` consecutive spans covering [0, length), cut at multiples of ALIGN."""
    cuts = [round(i * length / count / ALIGN) * ALIGN for i in range(count)] + [length]
    return list(zip(cuts[:-1], cuts[1:]))


def tiles(width, height, max_megapixels, margin=MARGIN):
    """The fewest tiles, each with its margins at most ``max_megapixels``, whose cores cover
    a (width, height) image (sides multiples of ALIGN)."""
    for count in range(1, max(width, height) // ALIGN + 1):
        nx = max(1, round(count * math.sqrt(width / height)))
        ny = max(1, math.ceil(count / nx))
        w, h = math.ceil(width / nx) + 2 * margin * (nx > 1), math.ceil(height / ny) + 2 * margin * (ny > 1)
        if w * h <= max_megapixels * 1e6:
            return [Tile((max(x0 - margin, 0), max(y0 - margin, 0),
                          min(x1 + margin, width), min(y1 + margin, height)), (x0, y0, x1, y1))
                    for y0, y1 in spans(height, ny) for x0, x1 in spans(width, nx)]
    raise ValueError(f'{width}x{height} cannot be cut into tiles of {max_megapixels} megapixels')


def core_of(Y, tile):
    """The part of a tile's output Y (at its own scale: 1, 1/2 or 1/4) that the core covers."""
    (bx0, by0, bx1, by1), (x0, y0, x1, y1) = tile.box, tile.core
    s = Y.shape[3] / (bx1 - bx0)
    return Y[:, :, round((y0 - by0) * s):round((y1 - by0) * s),
             round((x0 - bx0) * s):round((x1 - bx0) * s)]


class Moments:
    """A norm's input over the tiles' cores, channel by channel: its sum, its sum of squares and
    its count, which give the whole image's mean and variance."""

    def __init__(self):
        self.total, self.squares, self.count = 0.0, 0.0, 0

    def add(self, part):
        """One tile's core of the norm's input: a numpy array (N, C, h, w)."""
        part = part.astype(np.float64)
        self.total = self.total + part.sum(axis=(0, 2, 3))
        self.squares = self.squares + (part ** 2).sum(axis=(0, 2, 3))
        self.count += part.shape[0] * part.shape[2] * part.shape[3]

    def folded(self, gamma, beta, eps):
        """The norm as an affine map of these statistics: (scale, shift), shaped (1, C, 1, 1)."""
        mean = self.total / self.count
        scale = gamma / np.sqrt(self.squares / self.count - mean ** 2 + eps)
        return scale.reshape(1, -1, 1, 1), (beta - mean * scale).reshape(1, -1, 1, 1)
