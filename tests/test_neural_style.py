"""Chapter 1's teaching code (d2lstyle.mxnet.neural_style) against independent numpy
computations."""
import mxnet as mx
import numpy as np
import pytest
from mxnet import autograd, nd
from PIL import Image

from chapter1_problem import features_of, random_image, truncated_vgg19, tubingen_problem
from d2lstyle import D2lStyleError, presets, standin, weights
from d2lstyle import mxnet as d2l


@pytest.fixture(scope='module')
def net():
    return truncated_vgg19()


def test_preprocess_normalises_each_channel_into_nchw():
    img = random_image(40, 32)
    X = d2l.preprocess(img, (40, 32))
    assert X.shape == (1, 3, 32, 40) and X.dtype == np.float32
    r, g, b = np.asarray(img)[7, 11] / 255
    expected = [(r - 0.485) / 0.229, (g - 0.456) / 0.224, (b - 0.406) / 0.225]
    np.testing.assert_allclose(X[0, :, 7, 11].asnumpy(), expected, rtol=1e-5)


def test_the_normalisation_is_the_one_the_converted_networks_expect():
    """The chapter takes its statistics from d2lstyle.weights, which builds them into VGG's
    first layer: one place, not a copy that could drift."""
    assert d2l.rgb_mean is weights.RGB_MEAN and d2l.rgb_std is weights.RGB_STD


def test_chapter_1s_layers_by_name_are_the_papers_indices():
    conv = weights.conv_layers('vgg19')
    assert [conv[name] for name in presets.STYLE_LAYERS] == [0, 5, 10, 19, 28]
    assert conv['conv4_4'] == 25


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
    assert min(parts) > 0
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
