"""The chapters' teaching code (d2lstyle.mxnet) against independent numpy computations."""
import mxnet as mx
import numpy as np
import pytest
from mxnet import autograd, nd
from PIL import Image

from d2lstyle import D2lStyleError, profiles, standin, weights
from d2lstyle import mxnet as d2l

ROOT = weights.Path(__file__).resolve().parents[1]
STYLE_LAYERS, CONTENT_LAYERS = [0, 5, 10, 19, 28], [25]


@pytest.fixture(scope='module')
def net():
    vgg = weights.load_vgg('vgg19')
    net = mx.gluon.nn.HybridSequential()
    for i in range(29):
        net.add(vgg[i])
    net.collect_params().setattr('grad_req', 'null')
    return net


def features_of(net):
    return lambda X: d2l.extract_features(net, X, CONTENT_LAYERS, STYLE_LAYERS)


def tubingen_problem(net, painting, shape):
    """Chapter 1's targets for the Tübingen photo and a painting from img/, at shape."""
    features = features_of(net)
    content = Image.open(ROOT / 'img' / 'tubingen.jpg').convert('RGB')
    style = Image.open(ROOT / 'img' / painting).convert('RGB')
    content_X, contents_Y = d2l.get_contents(features, content, shape, mx.cpu())
    _, styles_Y = d2l.get_styles(features, style, shape, mx.cpu())
    return features, content_X, contents_Y, styles_Y


def random_image(width, height, seed=0):
    pixels = np.random.RandomState(seed).randint(0, 256, (height, width, 3), dtype=np.uint8)
    return Image.fromarray(pixels)


def test_preprocess_normalises_each_channel_into_nchw():
    img = random_image(40, 32)
    X = d2l.preprocess(img, (40, 32))
    assert X.shape == (1, 3, 32, 40) and X.dtype == np.float32
    r, g, b = np.asarray(img)[7, 11] / 255
    expected = [(r - 0.485) / 0.229, (g - 0.456) / 0.224, (b - 0.406) / 0.225]
    np.testing.assert_allclose(X[0, :, 7, 11].asnumpy(), expected, rtol=1e-5)


def test_preprocess_postprocess_round_trip_is_exact():
    img = random_image(64, 48)
    back = d2l.postprocess(d2l.preprocess(img, img.size))
    assert back.size == img.size and back.mode == 'RGB'
    np.testing.assert_array_equal(np.asarray(back), np.asarray(img))


def test_postprocess_clips_to_valid_colours():
    X = nd.array(np.stack([np.full((2, 2), v) for v in (-10.0, 10.0, 0.0)])[None])
    pixels = np.asarray(d2l.postprocess(X))
    assert (pixels[..., 0] == 0).all() and (pixels[..., 1] == 255).all()
    assert (pixels[..., 2] == round(0.406 * 255)).all()


@pytest.mark.parametrize('shape', [(0, 200), (300, -5)])
def test_preprocess_refuses_sizes_that_are_not_positive(shape):
    with pytest.raises(D2lStyleError, match='positive'):
        d2l.preprocess(random_image(40, 32), shape)


def test_feature_shapes_at_each_chosen_layer(net):
    contents, styles = features_of(net)(d2l.preprocess(random_image(300, 200), (300, 200)))
    assert [Y.shape for Y in styles] == [(1, 64, 200, 300), (1, 128, 100, 150),
                                         (1, 256, 50, 75), (1, 512, 25, 37), (1, 512, 12, 18)]
    assert [Y.shape for Y in contents] == [(1, 512, 25, 37)]


def test_gram_matches_numpy():
    x = np.random.RandomState(1).normal(size=(1, 5, 7, 3)).astype(np.float32)
    flat = x.reshape(5, 21)
    expected = np.einsum('ik,jk->ij', flat, flat) / (5 * 21)
    np.testing.assert_allclose(d2l.gram(nd.array(x)).asnumpy(), expected, rtol=1e-5)


def test_losses_match_numpy():
    rs = np.random.RandomState(2)
    a, b = rs.normal(size=(2, 1, 4, 6, 5)).astype(np.float32)
    np.testing.assert_allclose(d2l.content_loss(nd.array(a), nd.array(b)).asscalar(),
                               np.mean((a - b) ** 2), rtol=1e-5)
    gram_b = rs.normal(size=(4, 4)).astype(np.float32)
    flat = a.reshape(4, 30)
    np.testing.assert_allclose(d2l.style_loss(nd.array(a), nd.array(gram_b)).asscalar(),
                               np.mean((flat @ flat.T / 120 - gram_b) ** 2), rtol=1e-5)
    tv = 0.5 * (np.abs(np.diff(a, axis=2)).mean() + np.abs(np.diff(a, axis=3)).mean())
    np.testing.assert_allclose(d2l.tv_loss(nd.array(a)).asscalar(), tv, rtol=1e-5)


def test_compute_loss_weights_each_part():
    rs = np.random.RandomState(3)
    X, c_hat, c, s_hat = (nd.array(rs.normal(size=(1, 3, 6, 5))) for _ in range(4))
    s_gram = d2l.gram(nd.array(rs.normal(size=(1, 3, 6, 5))))
    contents_l, styles_l, tv_l, total = d2l.compute_loss(
        X, [c_hat], [s_hat], [c], [s_gram], content_weight=2, style_weight=30, tv_weight=0.5)
    parts = (2 * d2l.content_loss(c_hat, c).asscalar(),
             30 * d2l.style_loss(s_hat, s_gram).asscalar(), 0.5 * d2l.tv_loss(X).asscalar())
    np.testing.assert_allclose([contents_l[0].asscalar(), styles_l[0].asscalar(),
                                tv_l.asscalar()], parts, rtol=1e-5)
    np.testing.assert_allclose(total.asscalar(), sum(parts), rtol=1e-5)


def test_generated_image_is_its_own_trainable_parameter():
    x = np.random.RandomState(4).normal(size=(1, 3, 4, 5)).astype(np.float32)
    gen = d2l.GeneratedImage(x.shape)
    gen.initialize(mx.init.Constant(nd.array(x)))
    with autograd.record():
        loss = nd.sum(gen() ** 2)
    loss.backward()
    np.testing.assert_allclose(gen().asnumpy(), x)
    np.testing.assert_allclose(gen.weight.grad().asnumpy(), 2 * x, rtol=1e-6)


def test_learning_rate_decays_by_0_8_every_lr_decay_steps_steps():
    X = nd.zeros((1, 3, 4, 4))
    gen, _, trainer = d2l.get_inits(X, lr=0.3, lr_decay_steps=3, styles_Y=[X])
    used = []
    for _ in range(10):
        with autograd.record():
            loss = nd.sum(gen() ** 2)
        loss.backward()
        trainer.step(1)
        used.append(trainer.learning_rate)
    expected = [0.3 * 0.8 ** ((t - 1) // 3) for t in range(1, 11)]
    np.testing.assert_allclose(used, expected, rtol=1e-6)


def test_upscale_resizes_the_image_as_pillow_would():
    small = d2l.preprocess(random_image(48, 32, seed=5), (48, 32))
    big = d2l.upscale(small, (96, 64))
    assert big.shape == (1, 3, 64, 96)
    expected = np.asarray(d2l.postprocess(small).resize((96, 64), Image.BICUBIC), np.int16)
    assert np.abs(np.asarray(d2l.postprocess(big), np.int16) - expected).max() <= 1


def test_try_gpu_picks_a_gpu_that_exists_and_falls_back_to_the_cpu():
    with standin.installed(0):
        assert d2l.try_gpu() == mx.cpu()
    with standin.installed(2):  # GPU i is cpu(i + 1)
        assert [d2l.try_gpu(), d2l.try_gpu(1), d2l.try_gpu(2)] == [mx.cpu(1), mx.cpu(2), mx.cpu()]


@pytest.mark.slow
def test_a_short_real_style_transfer_lowers_the_style_loss(net):
    features, content_X, contents_Y, styles_Y = tubingen_problem(
        net, 'starry_night.jpg', (150, 100))
    output, animator = d2l.train(features, content_X, contents_Y, styles_Y, lr=0.3,
                                 num_steps=60, lr_decay_steps=50)
    assert output.shape == content_X.shape and len(animator.frames) == 6
    assert animator.losses[-1][1] < animator.losses[0][1]  # still falling after step 10
    grams = [d2l.gram(Y) for Y in styles_Y]
    style_loss = lambda X: sum(d2l.style_loss(Y, G).asscalar()
                               for Y, G in zip(features(X)[1], grams))
    start, end = style_loss(content_X), style_loss(output)
    print(f'style loss {start:.4g} -> {end:.4g}')
    assert end < start / 10  # measured: about 21 times smaller


def test_profiles_come_from_one_environment_variable(monkeypatch):
    monkeypatch.delenv(profiles.ENV_VAR, raising=False)
    assert profiles.current().name == 'quick'
    monkeypatch.setenv(profiles.ENV_VAR, 'full')
    full = profiles.current()
    assert [s.image_shape for s in full.stages] == [(300, 200), (1200, 800)]
    assert [s.num_steps for s in full.stages] == [500, 300]
    monkeypatch.setenv(profiles.ENV_VAR, 'fast')
    with pytest.raises(D2lStyleError, match="D2LSTYLE_PROFILE='fast'.*quick, full"):
        profiles.current()


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
    (fast, fast_grad), (slow, slow_grad) = results
    np.testing.assert_allclose(fast, slow, rtol=1e-4)
    assert min(slow) > 0
    np.testing.assert_allclose(fast_grad, slow_grad, rtol=1e-3, atol=1e-3 * np.abs(slow_grad).max())


def test_style_loss_block_weighs_each_style_layer(net):
    features, content_X, contents_Y, styles_Y = tubingen_problem(net, 'great_wave.jpg', (64, 48))
    grams = [d2l.gram(Y) for Y in styles_Y]
    per_layer = [float(d2l.style_loss(Y, G).asscalar()) for Y, G in zip(features(content_X)[1], grams)]
    layer_weights = [0.5, 1, 1.5, 3, 4]
    loss = d2l.StyleLoss(net, CONTENT_LAYERS, STYLE_LAYERS, styles_Y, style_weight=layer_weights)
    style = float(loss(content_X, *d2l.loss_targets(contents_Y, grams))[1].asscalar())
    assert style == pytest.approx(np.dot(layer_weights, per_layer), rel=1e-4)


def test_loss_targets_put_grams_in_batches_of_one():
    contents = [nd.ones((1, 4, 3, 3))]
    grams = [nd.ones((4, 4)), nd.ones((8, 8))]
    targets = d2l.loss_targets(contents, grams)
    assert [t.shape for t in targets] == [(1, 4, 3, 3), (1, 4, 4), (1, 8, 8)]


@pytest.mark.slow
def test_train_fast_lowers_the_style_loss(net):
    features, content_X, contents_Y, styles_Y = tubingen_problem(
        net, 'starry_night.jpg', (150, 100))
    loss = d2l.StyleLoss(net, CONTENT_LAYERS, STYLE_LAYERS, styles_Y)
    loss.hybridize(static_alloc=True, static_shape=True)
    output, animator = d2l.train_fast(loss, content_X, contents_Y, styles_Y, 0.3, 60, 50)
    grams = [d2l.gram(Y) for Y in styles_Y]
    style_loss = lambda X: sum(d2l.style_loss(Y, G).asscalar()
                               for Y, G in zip(features(X)[1], grams))
    assert style_loss(output) < style_loss(content_X) / 10
    assert animator.losses[-1][1] < animator.losses[0][1]


def test_lbfgs_lowers_the_style_objective_at_every_accepted_step(net, monkeypatch):
    _, content_X, contents_Y, styles_Y = tubingen_problem(net, 'starry_night.jpg', (64, 48))
    loss = d2l.StyleLoss(net, CONTENT_LAYERS, STYLE_LAYERS, styles_Y)
    f = d2l.Objective(loss, d2l.loss_targets(contents_Y, [d2l.gram(Y) for Y in styles_Y]))
    accepted, search = [], d2l.line_search
    monkeypatch.setattr(d2l, 'line_search',
                        lambda *a, **k: accepted.append(search(*a, **k)) or accepted[-1])
    X = d2l.lbfgs(f, d2l.noise_image(content_X), num_evals=15)
    values = [f.history[0][4]] + [found[1] for found in accepted if found]
    assert len(values) > 5 and all(b < a for a, b in zip(values, values[1:]))
    assert len(f.history) == 15 and f(X)[0] == values[-1]
    seconds = [row[0] for row in f.history]
    assert seconds == sorted(seconds) and all(len(row) == 5 for row in f.history)
