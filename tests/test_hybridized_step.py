"""Chapter 2's teaching code (d2lstyle.mxnet.hybridized_step): the StyleLoss block computes
chapter 1's losses, and train_hybridized trains with it."""
import numpy as np
import pytest
from mxnet import autograd, nd

from chapter1_problem import CONTENT_LAYERS, STYLE_LAYERS, truncated_vgg19, tubingen_problem
from d2lstyle import mxnet as d2l


@pytest.fixture(scope='module')
def net():
    return truncated_vgg19()


def test_style_loss_block_computes_the_chapter_1_losses(net):
    """Chapter 2's hybridized StyleLoss: same losses and same gradient as compute_loss."""
    features, content_X, contents_Y, styles_Y = tubingen_problem(
        net, 'great_wave.jpg', (96, 64))
    grams = [d2l.gram(Y) for Y in styles_Y]
    X = content_X + 0.5 * nd.random.normal(shape=content_X.shape)
    loss = d2l.StyleLoss(net, CONTENT_LAYERS, STYLE_LAYERS, styles_Y)
    loss.hybridize(static_alloc=True, static_shape=True)
    results = []
    for compute in (lambda X: loss(X, *d2l.loss_targets(contents_Y, grams)),
                    lambda X: d2l.compute_loss(X, *features(X), contents_Y, grams)):
        X.attach_grad()
        with autograd.record():
            parts = compute(X)
        parts[-1].backward()
        values = [nd.add_n(*p) if isinstance(p, list) else p for p in parts]
        results.append(([float(v.asscalar()) for v in values], X.grad.asnumpy().copy()))
    (hybridized, hybridized_grad), (chapter1, chapter1_grad) = results
    np.testing.assert_allclose(hybridized, chapter1, rtol=1e-4)
    assert min(chapter1) > 0
    np.testing.assert_allclose(hybridized_grad, chapter1_grad, rtol=1e-3,
                               atol=1e-3 * np.abs(chapter1_grad).max())


def test_losses_of_a_batch_are_the_mean_of_chapter_1s_losses_of_its_images():
    """StyleLoss.losses, from features: each image's losses are compute_loss's, and a batch's
    are their mean, with one image's Gram targets broadcast over the batch."""
    rs = np.random.RandomState(6)
    normal = lambda *shape: nd.array(rs.normal(size=shape))
    n = 3
    X, contents_Y_hat, contents_Y = normal(n, 3, 7, 5), normal(n, 4, 6, 5), normal(n, 4, 6, 5)
    styles_Y_hat = [normal(n, 4, 6, 5), normal(n, 8, 3, 2)]
    grams = [d2l.gram(normal(1, 4, 6, 5)), d2l.gram(normal(1, 8, 3, 2))]
    loss = d2l.StyleLoss(None, [0], [0, 1], [Y[:1] for Y in styles_Y_hat],
                         content_weight=2, style_weight=30, tv_weight=0.5)
    batch = [l.asscalar() for l in loss.losses(nd, X, [contents_Y_hat], [contents_Y],
                                               styles_Y_hat, [G.expand_dims(0) for G in grams])]
    each = []
    for i in range(n):
        image = lambda Y: Y[i:i + 1]
        parts = d2l.compute_loss(image(X), [image(contents_Y_hat)], list(map(image, styles_Y_hat)),
                                 [image(contents_Y)], grams, 2, 30, 0.5)
        each.append([nd.add_n(*p).asscalar() if isinstance(p, list) else p.asscalar()
                     for p in parts])
        one = loss.losses(nd, image(X), [image(contents_Y_hat)], [image(contents_Y)],
                          list(map(image, styles_Y_hat)), [G.expand_dims(0) for G in grams])
        np.testing.assert_allclose([l.asscalar() for l in one], each[-1], rtol=1e-5)
    assert np.min(each) > 0 and np.ptp(np.array(each)[:, 1]) > 0  # images differ in style
    np.testing.assert_allclose(batch, np.mean(each, axis=0), rtol=1e-5)


def test_style_loss_block_weighs_each_style_layer(net):
    features, content_X, contents_Y, styles_Y = tubingen_problem(net, 'great_wave.jpg', (64, 48))
    grams = [d2l.gram(Y) for Y in styles_Y]
    per_layer = [float(d2l.style_loss(Y, G).asscalar()) for Y, G in zip(features(content_X)[1], grams)]
    layer_weights = [0.5, 1, 1.5, 3, 4]
    loss = d2l.StyleLoss(net, CONTENT_LAYERS, STYLE_LAYERS, styles_Y, style_weight=layer_weights)
    style = float(loss(content_X, *d2l.loss_targets(contents_Y, grams))[1].asscalar())
    assert min(per_layer) > 0
    assert style == pytest.approx(np.dot(layer_weights, per_layer), rel=1e-4)


def test_loss_targets_put_grams_in_batches_of_one():
    contents = [nd.ones((1, 4, 3, 3))]
    grams = [nd.ones((4, 4)), nd.ones((8, 8))]
    targets = d2l.loss_targets(contents, grams)
    assert [t.shape for t in targets] == [(1, 4, 3, 3), (1, 4, 4), (1, 8, 8)]


@pytest.mark.slow
def test_train_hybridized_lowers_the_style_loss(net):
    features, content_X, contents_Y, styles_Y = tubingen_problem(
        net, 'starry_night.jpg', (150, 100))
    loss = d2l.StyleLoss(net, CONTENT_LAYERS, STYLE_LAYERS, styles_Y)
    loss.hybridize(static_alloc=True, static_shape=True)
    output, animator = d2l.train_hybridized(loss, content_X, contents_Y, styles_Y, 0.3, 60, 50)
    grams = [d2l.gram(Y) for Y in styles_Y]
    style_loss = lambda X: sum(d2l.style_loss(Y, G).asscalar()
                               for Y, G in zip(features(X)[1], grams))
    assert style_loss(output) < style_loss(content_X) / 10
    assert animator.losses[-1][1] < animator.losses[0][1]
