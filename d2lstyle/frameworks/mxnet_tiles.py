"""Chapter 6's network over a photograph in tiles, with the result of one pass, on MXNet: the
exported graph rebuilt with each InstanceNorm as an affine map of the whole image's statistics
(``transform_tiles`` says why, and cuts the tiles)."""
import json
import warnings

import mxnet as mx
import numpy as np

from .. import mxnet as d2l
from .. import transform_tiles
from ..transform_tiles import ALIGN, core_of


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
    """Chapter 6's ``stylize_photo``, tile by tile: the same result in bounded memory."""

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
            moments, run = transform_tiles.Moments(), self.block(x)
            for tile in grid:
                moments.add(core_of(run(X, tile), tile).asnumpy())
            scale, shift = moments.folded(self.params[gamma].asnumpy(),
                                          self.params[beta].asnumpy(), eps)
            self.params[f'{name}_scale'] = mx.nd.array(scale, ctx=self.ctx)
            self.params[f'{name}_shift'] = mx.nd.array(shift, ctx=self.ctx)

    def __call__(self, img):
        X = d2l.preprocess(img, img.size).as_in_context(self.ctx)
        h, w = X.shape[2:]
        X = mx.nd.pad(X, mode='reflect', pad_width=(0, 0, 0, 0, 0, -h % ALIGN, 0, -w % ALIGN))
        grid = transform_tiles.tiles(X.shape[3], X.shape[2], self.max_megapixels)
        self.statistics(X, grid)
        Y, run = np.zeros(X.shape, dtype=np.float32), self.block(self.output)
        for tile in grid:
            x0, y0, x1, y1 = tile.core
            Y[:, :, y0:y1, x0:x1] = core_of(run(X, tile), tile).asnumpy()
        return d2l.postprocess(mx.nd.array(Y[:, :, :h, :w]))
