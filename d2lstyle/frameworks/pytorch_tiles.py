"""Chapter 6's network over a photograph in tiles, with the result of one pass, on PyTorch: each
InstanceNorm2d replaced, once its whole image's statistics are known, by the affine map they
give (``transform_tiles`` says why, and cuts the tiles)."""
import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .. import torch as d2l
from .. import transform_tiles
from ..transform_tiles import ALIGN, core_of


class _Reached(Exception):
    """Raised by a hook to end a pass at the input of the norm being measured."""

    def __init__(self, X):
        super().__init__()
        self.X = X


class TiledTransform:
    """Chapter 6's ``stylize_photo``, tile by tile: the same result in bounded memory."""

    def __init__(self, net, device, max_megapixels):
        self.net, self.device, self.max_megapixels = net.to(device).eval(), device, max_megapixels
        self.norms = [m for m in net.modules() if isinstance(m, nn.InstanceNorm2d)]
        self.folded = {}  # norm -> (scale, shift), shaped (1, C, 1, 1)
        for norm in self.norms:
            norm.register_forward_hook(self.affine)

    def affine(self, norm, inputs, output):
        """A norm whose whole-image statistics are known gives their affine map instead."""
        if norm in self.folded:
            scale, shift = self.folded[norm]
            return inputs[0] * scale + shift
        return output

    def up_to(self, norm, X, tile):
        """The tile's input to ``norm``, the norms before it folded."""
        handle = norm.register_forward_pre_hook(lambda module, inputs: _raise(inputs[0]))
        try:
            self.net(crop(X, tile))
        except _Reached as reached:
            return reached.X
        finally:
            handle.remove()
        raise AssertionError('the norm was not reached')

    def statistics(self, X, grid):
        """Each norm's whole-image mean and variance folded into its scale and shift, in order."""
        self.folded.clear()
        for norm in self.norms:
            moments = transform_tiles.Moments()
            for tile in grid:
                moments.add(core_of(self.up_to(norm, X, tile), tile).cpu().numpy())
            parts = moments.folded(norm.weight.detach().cpu().numpy(),
                                   norm.bias.detach().cpu().numpy(), norm.eps)
            self.folded[norm] = tuple(torch.tensor(p, dtype=torch.float32, device=X.device)
                                      for p in parts)

    @torch.no_grad()
    def __call__(self, img):
        X = d2l.preprocess(img, img.size).to(self.device)
        h, w = X.shape[2:]
        X = F.pad(X, (0, -w % ALIGN, 0, -h % ALIGN), mode='reflect')
        grid = transform_tiles.tiles(X.shape[3], X.shape[2], self.max_megapixels)
        self.statistics(X, grid)
        Y = np.zeros(X.shape, dtype=np.float32)
        for tile in grid:
            x0, y0, x1, y1 = tile.core
            Y[:, :, y0:y1, x0:x1] = core_of(self.net(crop(X, tile)), tile).cpu().numpy()
        self.folded.clear()
        return d2l.postprocess(torch.from_numpy(Y[:, :, :h, :w]))


def _raise(X):
    raise _Reached(X)


def crop(X, tile):
    x0, y0, x1, y1 = tile.box
    return X[:, :, y0:y1, x0:x1]
