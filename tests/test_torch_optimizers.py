"""Chapter 3's PyTorch tab (d2lstyle.torch.optimizers): the book's L-BFGS, which is one code for
both tabs, on PyTorch tensors against torch.optim.LBFGS and scipy.optimize; PyTorch's
gradient_descent and TiledObjective do what MXNet's do."""
import numpy as np
import pytest
import scipy.optimize
import torch

from d2lstyle import torch as d2l
from test_optimizers import quadratic, scipy_lbfgs


def on_tensors(fun, jac, scale=1.0):
    """f(X) -> (value, gradient) on float64 tensors, from numpy functions."""
    def f(X):
        x = X.numpy()
        return scale * float(fun(x)), torch.tensor(scale * jac(x), dtype=torch.float64)
    return f


def torch_lbfgs(fun, jac, x0, num_evals):
    """torch.optim.LBFGS with a strong-Wolfe line search, from x0, within num_evals."""
    x = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS([x], max_iter=num_evals, max_eval=num_evals,
                                  tolerance_grad=1e-12, tolerance_change=1e-15,
                                  line_search_fn='strong_wolfe')
    f = on_tensors(fun, jac)

    def closure():
        value, x.grad = f(x.detach())
        return value
    optimizer.step(closure)
    return x.detach().numpy()


def test_the_books_lbfgs_solves_a_quadratic_on_tensors_like_torch_and_scipy():
    fun, jac, A, b = quadratic()
    x0 = np.zeros(len(b))
    x = d2l.lbfgs(on_tensors(fun, jac), torch.tensor(x0), num_evals=200).numpy()
    np.testing.assert_allclose(x, np.linalg.solve(A, b), atol=1e-6)
    np.testing.assert_allclose(x, torch_lbfgs(fun, jac, x0, 200), atol=1e-6)
    np.testing.assert_allclose(x, scipy_lbfgs(fun, jac, x0), atol=1e-6)


@pytest.mark.parametrize('n', [2, 10])
def test_the_books_lbfgs_finds_the_rosenbrock_minimum_like_torch_and_scipy(n):
    x0 = np.tile([-1.2, 1.0], n // 2)
    rosen, rosen_der = scipy.optimize.rosen, scipy.optimize.rosen_der
    x = d2l.lbfgs(on_tensors(rosen, rosen_der), torch.tensor(x0), num_evals=1000).numpy()
    for reference in (torch_lbfgs(rosen, rosen_der, x0, 1000), scipy_lbfgs(rosen, rosen_der, x0)):
        np.testing.assert_allclose(reference, np.ones(n), atol=1e-5)
        np.testing.assert_allclose(x, reference, atol=1e-5)


def test_gradient_descent_stops_when_the_loss_overflows():
    calls = []
    fun, jac, _, b = quadratic(condition=10)
    f = on_tensors(fun, jac)
    sgd = lambda params: (torch.optim.SGD(params, lr=1e3), None)
    with np.errstate(over='ignore', invalid='ignore'):
        d2l.gradient_descent(lambda X: calls.append(1) or f(X), torch.zeros(len(b), dtype=torch.float64),
                             sgd, num_evals=500)
    assert 2 < len(calls) < 500


def test_normalised_gradient_ignores_the_scale_of_the_loss_and_bounds_hold():
    fun, jac, _, b = quadratic(condition=10)
    X0 = torch.zeros(len(b), dtype=torch.float64)
    sgd = lambda params: (torch.optim.SGD(params, lr=0.05), None)
    ends = [d2l.gradient_descent(on_tensors(fun, jac, scale), X0, sgd, 30, normalize_grad=True)
            for scale in (1.0, 1e4)]
    np.testing.assert_allclose(ends[0].numpy(), ends[1].numpy(), rtol=1e-9)
    assert fun(ends[0].numpy()) < fun(X0.numpy())
    f = on_tensors(lambda x: float(((x - 5) ** 2).sum()), lambda x: 2 * (x - 5))
    low, high = torch.tensor([0.0, -1.0], dtype=torch.float64), torch.tensor([1.0, 2.0], dtype=torch.float64)
    sgd = lambda params: (torch.optim.SGD(params, lr=0.3), None)
    X = d2l.gradient_descent(f, torch.tensor([0.5, 0.0], dtype=torch.float64), sgd, 20,
                             bounds=(low, high))
    np.testing.assert_array_equal(X.numpy(), [1.0, 2.0])


def test_adams_schedule_decays_the_rate_by_0_8_every_50_steps():
    X = torch.zeros(3, dtype=torch.float64)
    rates = []

    def make(params):
        optimizer = torch.optim.Adam(params, lr=0.3)
        rates.append(optimizer)
        return optimizer, torch.optim.lr_scheduler.StepLR(optimizer, 50, 0.8)
    d2l.gradient_descent(lambda X: (float((X ** 2).sum()), 2 * X + 1), X, make, 120)
    assert rates[0].param_groups[0]['lr'] == pytest.approx(0.3 * 0.8 ** 2)


@pytest.mark.parametrize('blend, is_the_gradient', [(False, True), (True, False)])
def test_without_blending_the_tiled_gradient_is_the_mean_losss_own(blend, is_the_gradient):
    g = d2l.tile_grid((90, 70), 2e-3, 16)
    assert len(g) > 2

    def loss(x, *targets):
        l = (x ** 2).sum() ** 2 / x.numel() + (x ** 3).sum()
        return l, l * 0, l * 0, l
    objective = d2l.TiledObjective(loss, g, [[] for _ in range(len(g))], 'cpu', blend)
    torch.manual_seed(0)
    X = torch.rand(1, 3, 70, 90) * 2 - 1
    _, grad = objective(X)
    X.requires_grad_()
    mean = sum(loss(d2l.crop(X, region))[-1] for region in g.regions()) / len(g)
    mean.backward()
    assert torch.allclose(grad, X.grad, rtol=1e-4, atol=1e-6) == is_the_gradient
    assert len(objective.history) == 1 and len(objective.history[0]) == 5
