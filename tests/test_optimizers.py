"""Chapter 3's teaching code (d2lstyle.mxnet.optimizers): the optimisers on smooth functions,
against scipy.optimize and exact answers, and L-BFGS on the style-transfer objective."""
import importlib

import numpy as np
import pytest
import scipy.optimize
from mxnet import nd, optimizer

from chapter1_problem import CONTENT_LAYERS, STYLE_LAYERS, truncated_vgg19, tubingen_problem
from d2lstyle import mxnet as d2l


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
