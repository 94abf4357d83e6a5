"""A transform network over a photograph too large for one pass, in tiles, with the result
of one pass.

Every layer of chapter 5's network is local except instance normalisation, whose mean and
variance are taken over the whole image. Cutting the photograph into tiles and normalising
each by its own statistics would give each tile its own brightness and contrast, and the
borders would show. So the statistics are computed first, for the whole image, one
normalisation layer at a time: tiles pass through the network up to layer k (the layers
before it normalised by their whole-image statistics, already known), and their sums give
layer k's. With all of them known, every layer is local, and each tile, grown by a margin
wider than the network's receptive field, gives exactly its own part of the result.

The network is an exported symbol; each InstanceNorm node is rebuilt as the affine map
``x * scale + shift`` whose scale and shift are those statistics folded with its gamma and
beta. The price is time: about as many partial passes as there are normalisation layers.
"""
import json
import math
import warnings
from dataclasses import dataclass

import mxnet as mx
import numpy as np

from . import mxnet as d2l

# Two stride-2 layers: tiles start and end on multiples of 4, so that the tiles' pixels meet
# the strided convolutions and upsamplings on the same grid as the whole image's.
ALIGN = 4
# Wider than the receptive field of chapter 5's network (54 pixels each side: 9x9 and 3x3
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


def affine_graph(symbol):
    """The symbol rebuilt node by node, each InstanceNorm as ``x * NAME_scale + NAME_shift``.

    Returns the output and, in order, (name, symbol of its input, gamma, beta, eps) per norm.
    """
    graph = json.loads(symbol.tojson())
    built, norms = [], []
    for node in graph['nodes']:
        inputs = [built[i][j] if len(built[i].list_outputs()) > 1 else built[i]
                  for i, j, _ in node['inputs']]
        attrs = {k: v for k, v in node.get('attrs', {}).items() if not k.startswith('__')}
        if node['op'] == 'null':
            built.append(mx.sym.var(node['name']))
        elif node['op'] == 'InstanceNorm':
            x, gamma, beta = inputs
            name = node['name']
            norms.append((name, x, gamma.name, beta.name, float(attrs.get('eps', 1e-3))))
            built.append(mx.sym.broadcast_add(
                mx.sym.broadcast_mul(x, mx.sym.var(f'{name}_scale')), mx.sym.var(f'{name}_shift'),
                name=name))
        else:
            built.append(getattr(mx.sym, node['op'])(*inputs, name=node['name'], **attrs))
    (head, _, _), = graph['heads']
    return built[head], norms


class TiledTransform:
    """Chapter 5's ``stylize_photo``, tile by tile: the same result in bounded memory."""

    def __init__(self, prefix, ctx, max_megapixels):
        self.ctx, self.max_megapixels = ctx, max_megapixels
        self.output, self.norms = affine_graph(mx.sym.load(f'{prefix}-symbol.json'))
        self.params = {name.split(':', 1)[-1]: value.astype('float32').as_in_context(ctx)
                       for name, value in mx.nd.load(f'{prefix}-0000.params').items()}
        folded = {f'{name}_{part}' for name, *_ in self.norms for part in ('scale', 'shift')}
        missing = set(self.output.list_inputs()) - set(self.params) - folded - {'data'}
        if missing:
            raise ValueError(f'no values for {", ".join(sorted(missing))}')

    def block(self, symbol):
        """``symbol`` as a block called with the image, then its other inputs in order."""
        names = symbol.list_inputs()
        with warnings.catch_warnings():  # no input's type is given: float32, as usual
            warnings.simplefilter('ignore', UserWarning)
            block = mx.gluon.SymbolBlock(symbol, [mx.sym.var(name) for name in names])
        return lambda X, tile: block(*[X[:, :, tile.box[1]:tile.box[3], tile.box[0]:tile.box[2]]
                                       if name == 'data' else self.params[name] for name in names])

    def statistics(self, X, grid):
        """Fold each norm's whole-image mean and variance into its scale and shift, in order."""
        for name, x, gamma, beta, eps in self.norms:
            total, squares, count = 0.0, 0.0, 0
            run = self.block(x)
            for tile in grid:
                part = core_of(run(X, tile), tile).asnumpy().astype(np.float64)
                total = total + part.sum(axis=(0, 2, 3))
                squares = squares + (part ** 2).sum(axis=(0, 2, 3))
                count += part.shape[0] * part.shape[2] * part.shape[3]
            mean = total / count
            scale = self.params[gamma].asnumpy() / np.sqrt(squares / count - mean ** 2 + eps)
            shift = self.params[beta].asnumpy() - mean * scale
            self.params[f'{name}_scale'] = mx.nd.array(scale.reshape(1, -1, 1, 1), ctx=self.ctx)
            self.params[f'{name}_shift'] = mx.nd.array(shift.reshape(1, -1, 1, 1), ctx=self.ctx)

    def __call__(self, img):
        X = d2l.preprocess(img, img.size).as_in_context(self.ctx)
        h, w = X.shape[2:]
        X = mx.nd.pad(X, mode='reflect', pad_width=(0, 0, 0, 0, 0, -h % ALIGN, 0, -w % ALIGN))
        grid = tiles(X.shape[3], X.shape[2], self.max_megapixels)
        self.statistics(X, grid)
        Y, run = np.zeros(X.shape, dtype=np.float32), self.block(self.output)
        for tile in grid:
            x0, y0, x1, y1 = tile.core
            Y[:, :, y0:y1, x0:x1] = core_of(run(X, tile), tile).asnumpy()
        return d2l.postprocess(mx.nd.array(Y[:, :, :h, :w]))


def core_of(Y, tile):
    """The part of a tile's output Y (at its own scale: 1, 1/2 or 1/4) that the core covers."""
    (bx0, by0, bx1, by1), (x0, y0, x1, y1) = tile.box, tile.core
    s = Y.shape[3] / (bx1 - bx0)
    return Y[:, :, round((y0 - by0) * s):round((y1 - by0) * s),
             round((x0 - bx0) * s):round((x1 - bx0) * s)]
