"""Stages optimised in tiles (d2lstyle.tiles): the grid, the blending windows, the Gram
targets taken tile by tile, the assembled gradient and the seam measure."""
import numpy as np
import pytest
from mxnet import nd

from d2lstyle import mxnet as d2l
from d2lstyle import tiles


@pytest.mark.parametrize('shape', [(1200, 900), (1200, 800), (2400, 1600), (4800, 3200),
                                   (3000, 500), (333, 777)])
def test_the_grid_covers_the_image_with_overlapping_tiles_within_the_budget(shape):
    g = tiles.grid(shape)
    w, h = g.tile
    assert w * h <= tiles.TILE_MEGAPIXELS * 1e6
    covered = np.zeros(shape[::-1], bool)
    for x0, y0, x1, y1 in g.regions():
        assert 0 <= x0 and x1 <= shape[0] and 0 <= y0 and y1 <= shape[1]
        covered[y0:y1, x0:x1] = True
    assert covered.all()
    for starts, side in ((g.xs, w), (g.ys, h)):
        assert all(a + side - b >= tiles.OVERLAP for a, b in zip(starts, starts[1:]))


def test_a_stage_that_fits_is_one_tile_and_1200x800_is_two():
    assert len(tiles.grid((600, 400))) == 1 and tiles.grid((600, 400)).tile == (600, 400)
    assert len(tiles.grid((1200, 800))) == 2


def test_the_windows_add_up_to_one_and_fall_towards_inner_borders():
    g = tiles.grid((2400, 1600))
    total = np.zeros((1600, 2400))
    for (x0, y0, x1, y1), w in zip(g.regions(), tiles.windows(g)):
        assert w.min() >= 0
        total[y0:y1, x0:x1] += w
    np.testing.assert_allclose(total, 1)
    first = tiles.windows(g)[0]  # the top-left tile: its right and bottom borders are inner
    assert first[0, 0] == 1 and first[0, -1] < 0.05 and first[-1, 0] < 0.05


def test_gram_targets_taken_in_tiles_equal_the_whole_images():
    X = nd.random.uniform(shape=(1, 3, 40, 60))
    identity = lambda X: ([], [X, X * 2])  # 'features': the pixels themselves
    whole = tiles.style_grams(identity, X, max_megapixels=1)
    tiled = tiles.style_grams(identity, X, max_megapixels=600e-6)  # four 60x10 strips
    assert len(tiles.grid((60, 40), 600e-6, overlap=0)) == 4
    for a, b in zip(whole, tiled):
        np.testing.assert_allclose(a.asnumpy(), b.asnumpy(), rtol=1e-5)


def test_the_blended_gradient_of_a_pointwise_loss_is_the_whole_images():
    """For a loss that is a sum over pixels, each tile's gradient is the whole image's there,
    so the window-weighted sum must give back the whole image's gradient exactly."""
    g = tiles.grid((90, 70), max_megapixels=2e-3, overlap=16)
    assert len(g) > 2

    def loss(x, *targets):
        l = (x ** 3).sum()
        return l, l * 0, l * 0, l
    objective = tiles.TiledObjective(loss, g, [[] for _ in range(len(g))], [], None)
    X = nd.random.uniform(-1, 1, shape=(1, 3, 70, 90))
    value, grad = objective(X)
    np.testing.assert_allclose(grad.asnumpy(), 3 * X.asnumpy() ** 2, rtol=1e-5)
    assert len(objective.history) == 1 and len(objective.history[0]) == 5


def test_the_seam_measure_sees_a_seam_and_passes_a_smooth_image():
    g = tiles.grid((200, 100), max_megapixels=0.012, overlap=20)
    rng = np.random.default_rng(0)
    smooth = (rng.random((100, 200, 3)) * 40 + 100).astype(np.uint8)
    assert 0.9 < tiles.seam_ratio(smooth, g) < 1.1
    seamed = smooth.copy()
    x = g.xs[1]
    seamed[:, x:] = np.clip(seamed[:, x:].astype(int) + 60, 0, 255)  # a step where a tile begins
    assert tiles.seam_ratio(seamed, g) > 1.5
