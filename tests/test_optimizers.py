"""Chapter 3's teaching code (d2lstyle.mxnet.optimizers): the optimisers on smooth functions,
against scipy.optimize and exact answers, L-BFGS on the style-transfer objective, and the
tiles that keep a large stage in bounded memory."""
import importlib

import numpy as np
import pytest
import scipy.optimize
from mxnet import autograd, nd, optimizer

from chapter1_problem import CONTENT_LAYERS, STYLE_LAYERS, truncated_vgg19, tubingen_problem
from d2lstyle import memory
from d2lstyle import mxnet as d2l
from d2lstyle.stylize import grid


def on_ndarrays(fun, jac, scale=1.0):
    """f(X) -> (value, gradient) on float64 NDArrays, from numpy functions."""
    def f(X):
        x = X.asnumpy()
        return scale * float(fun(x)), nd.array(scale * jac(x), dtype='float64')
    return f


def quadratic(n=20, condition=100.0, seed=0):
    """f(x) = x'Ax/2 - b'x with eigenvalues from 1 to condition; its minimiser solves Ax = b."""
    rng = np.random.RandomState(seed)
    Q, _ = np.linalg.qr(rng.randn(n, n))
    A = Q @ np.diag(np.geomspace(1, condition, n)) @ Q.T
    b = rng.randn(n)
    return (lambda x: 0.5 * x @ A @ x - b @ x), (lambda x: A @ x - b), A, b


def scipy_lbfgs(fun, jac, x0):
    return scipy.optimize.minimize(fun, x0, jac=jac, method='L-BFGS-B',
                                   options={'maxiter': 1000, 'gtol': 1e-12, 'ftol': 1e-15}).x


def test_lbfgs_solves_a_quadratic_like_scipy():
    fun, jac, A, b = quadratic()
    x0 = np.zeros(len(b))
    x = d2l.lbfgs(on_ndarrays(fun, jac), nd.array(x0, dtype='float64'), num_evals=200).asnumpy()
    exact = np.linalg.solve(A, b)
    np.testing.assert_allclose(x, exact, atol=1e-6)
    np.testing.assert_allclose(x, scipy_lbfgs(fun, jac, x0), atol=1e-6)


@pytest.mark.parametrize('n', [2, 10])
def test_lbfgs_finds_the_rosenbrock_minimum_like_scipy(n):
    x0 = np.tile([-1.2, 1.0], n // 2)
    f = on_ndarrays(scipy.optimize.rosen, scipy.optimize.rosen_der)
    x = d2l.lbfgs(f, nd.array(x0, dtype='float64'), num_evals=1000).asnumpy()
    reference = scipy_lbfgs(scipy.optimize.rosen, scipy.optimize.rosen_der, x0)
    np.testing.assert_allclose(reference, np.ones(n), atol=1e-5)
    np.testing.assert_allclose(x, reference, atol=1e-5)
    assert scipy.optimize.rosen(x) < 1e-10


def test_lbfgs_stays_within_its_evaluation_budget():
    calls = []
    f = on_ndarrays(scipy.optimize.rosen, scipy.optimize.rosen_der)
    d2l.lbfgs(lambda X: calls.append(1) or f(X), nd.array([-1.2, 1.0], dtype='float64'), 7)
    assert len(calls) == 7


def test_lbfgs_grows_its_step_where_curvature_gives_no_guidance():
    """On a line (zero curvature) every pair is refused; doubling the steepest-descent step
    still covers the distance 1000 in a few dozen evaluations."""
    f = on_ndarrays(lambda x: float(-x.sum()) if x[0] < 1000 else 1e9, lambda x: -np.ones_like(x))
    x = d2l.lbfgs(f, nd.array([0.0], dtype='float64'), num_evals=40).asscalar()
    assert 500 < x < 1000


def test_two_loop_satisfies_the_secant_condition():
    """BFGS's inverse Hessian maps the newest gradient change y back onto its step s."""
    _, _, A, _ = quadratic(n=8)
    rng = np.random.RandomState(1)
    memory = []
    for _ in range(4):
        s = rng.randn(8)
        y = A @ s
        memory.append((nd.array(s, dtype='float64'), nd.array(y, dtype='float64'), 1 / (s @ y)))
    s, y, _ = memory[-1]
    np.testing.assert_allclose(d2l.two_loop(y, memory).asnumpy(), s.asnumpy(), rtol=1e-10)


def test_two_loop_without_memory_is_the_gradient():
    g = nd.array([1.0, -2.0, 3.0], dtype='float64')
    np.testing.assert_array_equal(d2l.two_loop(g, []).asnumpy(), g.asnumpy())


def test_line_search_halves_until_sufficient_decrease():
    f = on_ndarrays(lambda x: float(x @ x), lambda x: 2 * x)
    X = nd.array([1.0], dtype='float64')
    value, grad = f(X)
    t, value_new, _, used = d2l.line_search(f, X, value, grad, -grad, 8.0, max_evals=10)
    # t = 8, 4, 2, 1 land on -15, -7, -3, -1: none is lower than f(1) = 1 by enough;
    # t = 0.5 lands on the minimum.
    assert used == 5 and t == 0.5 and value_new == 0.0


def test_line_search_gives_up_on_an_ascent_direction():
    f = on_ndarrays(lambda x: float(x @ x), lambda x: 2 * x)
    X = nd.array([1.0], dtype='float64')
    value, grad = f(X)
    assert d2l.line_search(f, X, value, grad, grad, 1.0, max_evals=6) is None


def test_gradient_descent_stops_when_the_loss_overflows():
    calls = []
    fun, jac, _, b = quadratic(condition=10)
    f = on_ndarrays(fun, jac)
    with np.errstate(over='ignore'):
        d2l.gradient_descent(lambda X: calls.append(1) or f(X), nd.zeros(len(b), dtype='float64'),
                             optimizer.SGD(learning_rate=1e3), num_evals=500)
    assert 2 < len(calls) < 500


def test_normalised_gradient_ignores_the_scale_of_the_loss():
    fun, jac, _, b = quadratic(condition=10)
    X0 = nd.zeros(len(b), dtype='float64')
    ends = [d2l.gradient_descent(on_ndarrays(fun, jac, scale), X0,
                                 optimizer.SGD(learning_rate=0.05), 30, normalize_grad=True)
            for scale in (1.0, 1e4)]
    np.testing.assert_allclose(ends[0].asnumpy(), ends[1].asnumpy(), rtol=1e-9)
    assert fun(ends[0].asnumpy()) < fun(X0.asnumpy())


def test_bounds_keep_every_step_inside_and_stop_at_the_edge():
    seen = []
    f = on_ndarrays(lambda x: float(((x - 5) ** 2).sum()), lambda x: 2 * (x - 5))
    low, high = nd.array([0.0, -1.0], dtype='float64'), nd.array([1.0, 2.0], dtype='float64')
    X = d2l.gradient_descent(lambda X: seen.append(X.asnumpy()) or f(X),
                             nd.array([0.5, 0.0], dtype='float64'),
                             optimizer.SGD(learning_rate=0.3), 20, bounds=(low, high))
    assert all((0 <= x[0] <= 1) and (-1 <= x[1] <= 2) for x in seen)
    np.testing.assert_array_equal(X.asnumpy(), [1.0, 2.0])


def test_lbfgs_lowers_the_style_objective_at_every_accepted_step(monkeypatch):
    net = truncated_vgg19()
    _, content_X, contents_Y, styles_Y = tubingen_problem(net, 'starry_night.jpg', (64, 48))
    loss = d2l.StyleLoss(net, CONTENT_LAYERS, STYLE_LAYERS, styles_Y)
    f = d2l.Objective(loss, d2l.loss_targets(contents_Y, [d2l.gram(Y) for Y in styles_Y]))
    accepted, search = [], d2l.line_search
    # lbfgs calls line_search of its own module, whichever module of d2lstyle.mxnet that is
    monkeypatch.setattr(importlib.import_module(d2l.lbfgs.__module__), 'line_search',
                        lambda *a, **k: accepted.append(search(*a, **k)) or accepted[-1])
    X = d2l.lbfgs(f, d2l.noise_image(content_X), num_evals=15)
    values = [f.history[0][4]] + [found[1] for found in accepted if found]
    assert len(values) > 5 and all(b < a for a, b in zip(values, values[1:]))
    assert len(f.history) == 15 and f(X)[0] == values[-1]
    seconds = [row[0] for row in f.history]
    assert seconds == sorted(seconds) and all(len(row) == 5 for row in f.history)


# Tiles: the grid, the blending windows, the Gram targets taken tile by tile, the assembled
# gradient and the seam measure


@pytest.mark.parametrize('shape', [(1200, 900), (1200, 800), (2400, 1600), (4800, 3200),
                                   (3000, 500), (333, 777)])
def test_the_grid_covers_the_image_with_overlapping_tiles_within_the_budget(shape):
    g = grid(shape)
    w, h = g.tile
    assert w * h <= memory.TILE_MEGAPIXELS * 1e6
    covered = np.zeros(shape[::-1], bool)
    for x0, y0, x1, y1 in g.regions():
        assert 0 <= x0 and x1 <= shape[0] and 0 <= y0 and y1 <= shape[1]
        covered[y0:y1, x0:x1] = True
    assert covered.all()
    for starts, side in ((g.xs, w), (g.ys, h)):
        assert all(a + side - b >= memory.OVERLAP for a, b in zip(starts, starts[1:]))


def test_a_stage_that_fits_is_one_tile_and_1200x800_is_two():
    assert len(grid((600, 400))) == 1 and grid((600, 400)).tile == (600, 400)
    assert len(grid((1200, 800))) == 2


def test_the_windows_add_up_to_one_and_fall_towards_inner_borders():
    g = grid((2400, 1600))
    total = np.zeros((1600, 2400))
    for (x0, y0, x1, y1), w in zip(g.regions(), d2l.tile_windows(g)):
        assert w.min() >= 0
        total[y0:y1, x0:x1] += w
    np.testing.assert_allclose(total, 1)
    first = d2l.tile_windows(g)[0]  # the top-left tile: its right and bottom borders are inner
    assert first[0, 0] == 1 and first[0, -1] < 0.05 and first[-1, 0] < 0.05


def test_gram_targets_taken_in_tiles_equal_the_whole_images():
    X = nd.random.uniform(shape=(1, 3, 40, 60))
    identity = lambda X: ([], [X, X * 2])  # 'features': the pixels themselves
    strips = d2l.tile_grid((60, 40), 600e-6, overlap=0)  # four 60x10 strips
    assert len(strips) == 4
    whole = d2l.tiled_grams(identity, X, d2l.tile_grid((60, 40), 1, overlap=0))
    tiled = d2l.tiled_grams(identity, X, strips)
    for a, b in zip(whole, tiled):
        np.testing.assert_allclose(a.asnumpy(), b.asnumpy(), rtol=1e-5)


def test_the_blended_gradient_of_a_pointwise_loss_is_the_whole_images():
    """For a loss that is a sum over pixels, each tile's gradient is the whole image's there,
    so the window-weighted sum must give back the whole image's gradient exactly."""
    g = d2l.tile_grid((90, 70), 2e-3, 16)
    assert len(g) > 2

    def loss(x, *targets):
        l = (x ** 3).sum()
        return l, l * 0, l * 0, l
    objective = d2l.TiledObjective(loss, g, [[] for _ in range(len(g))], None)
    X = nd.random.uniform(-1, 1, shape=(1, 3, 70, 90))
    value, grad = objective(X)
    np.testing.assert_allclose(grad.asnumpy(), 3 * X.asnumpy() ** 2, rtol=1e-5)
    assert len(objective.history) == 1 and len(objective.history[0]) == 5


@pytest.mark.parametrize('blend, is_the_gradient', [(False, True), (True, False)])
def test_without_blending_the_tiled_gradient_is_the_mean_losss_own(blend, is_the_gradient):
    """L-BFGS's line search needs f's own gradient: compare it with autograd's gradient of the
    tiles' mean loss taken on the whole image, for a loss that couples each tile's pixels. The
    blended gradient (for Adam) is not that gradient, which shows the check can fail."""
    g = d2l.tile_grid((90, 70), 2e-3, 16)
    assert len(g) > 2

    def loss(x, *targets):
        l = (x ** 2).sum() ** 2 / x.size + (x ** 3).sum()
        return l, l * 0, l * 0, l
    objective = d2l.TiledObjective(loss, g, [[] for _ in range(len(g))], None, blend)
    X = nd.random.uniform(-1, 1, shape=(1, 3, 70, 90))
    _, grad = objective(X)
    X.attach_grad()
    with autograd.record():  # the tiles' mean loss as one function of the whole image
        mean = sum(loss(d2l.crop(X, region))[-1] for region in g.regions()) / len(g)
    mean.backward()
    assert np.allclose(grad.asnumpy(), X.grad.asnumpy(), rtol=1e-4, atol=1e-6) == is_the_gradient


def test_the_seam_measure_sees_a_seam_and_passes_a_smooth_image():
    g = d2l.tile_grid((200, 100), 0.012, 20)
    rng = np.random.default_rng(0)
    smooth = (rng.random((100, 200, 3)) * 40 + 100).astype(np.uint8)
    assert 0.9 < d2l.seam_ratio(smooth, g) < 1.1
    seamed = smooth.copy()
    x = g.xs[1]
    seamed[:, x:] = np.clip(seamed[:, x:].astype(int) + 60, 0, 255)  # a step where a tile begins
    assert d2l.seam_ratio(seamed, g) > 1.5
