"""Chapter 4's presets: converted weights reproduce each original loss, number for number."""
import argparse
from pathlib import Path

import mxnet as mx
import numpy as np
import pytest
from mxnet import nd
from PIL import Image

from d2lstyle import D2lStyleError, presets, weights
from d2lstyle import mxnet as d2l

ROOT = weights.Path(__file__).resolve().parents[1]
A = weights.CAFFE_SCALE


def original_losses(preset, F, P, S):
    """The preset's own content and style loss of one layer, from its paper's formulas, on
    the activations its network produces (Caffe's: A times ours when caffe_activations)."""
    a = A if preset.caffe_activations else 1
    F, P, S = (a * x.reshape(x.shape[0], -1).astype(np.float64) for x in (F, P, S))
    N, M = F.shape
    if preset.quarter:  # Gatys: 1/(4NM) sum (F - P)^2 and 1/(4 N^2 M^2) sum (FF' - SS')^2
        return (((F - P) ** 2).sum() / (4 * N * M),
                ((F @ F.T - S @ S.T) ** 2).sum() / (4 * N ** 2 * M ** 2))
    divisor = M if preset.gram_by_positions else N * M
    return ((F - P) ** 2).mean(), (((F @ F.T - S @ S.T) / divisor) ** 2).mean()


@pytest.mark.parametrize('name', list(presets.PRESETS))
def test_converted_weights_give_the_original_loss(name):
    preset = presets.get(name)
    rng = np.random.RandomState(0)
    F, P, S = (rng.rand(8, 5, 6).astype(np.float32) for _ in range(3))  # N=8, 5x6 positions
    content_w, style_ws, _ = d2l.loss_weights(preset, [8] * len(preset.style_layers))
    to_nd = lambda x: nd.array(x[np.newaxis])
    ours_content = content_w * d2l.content_loss(to_nd(F), to_nd(P)).asscalar()
    ours_style = style_ws[0] * d2l.style_loss(to_nd(F), d2l.gram(to_nd(S))).asscalar()
    content, style = original_losses(preset, F, P, S)
    np.testing.assert_allclose(ours_content, preset.content_weight * content, rtol=1e-5)
    np.testing.assert_allclose(
        ours_style, preset.style_weight * preset.style_layer_weights[0] * style, rtol=1e-4)


# Each source's own values, read from its code (layer names in the paper's scheme: Keras's
# block5_conv2 is conv5_2 after its ReLU). 'noise': (ratio, distribution, scale on the source's
# pixels); 'adam': its arguments on the source's pixels (pixel scale 1: [0, 1], 255: [0, 255]).
SOURCES = {
    # https://d2l.ai/chapter_computer-vision/neural-style.html (PyTorch version):
    # style_layers, content_layers = [0, 5, 10, 19, 28], [25] of torchvision's vgg19.features
    # (convolutions, before their ReLU); content_weight, style_weight, tv_weight = 1, 1e3, 10;
    # Adam from the content image, lr 0.3, StepLR(50, 0.8), 500 epochs
    'd2l': dict(content=('conv4_4',), after_relu=False, pooling='max', weights=(1, 1e3, 10),
                layer_weights=(1,) * 5, noise=(0.0, None, None), optimizer='adam',
                adam={'learning_rate': 0.3}, pixel_scale=None, lr_decay=True, clip=False,
                steps=500),
    # https://www.tensorflow.org/tutorials/generative/style_transfer (source:
    # https://github.com/tensorflow/docs/blob/master/site/en/tutorials/generative/style_transfer.ipynb):
    # content_layers = ['block5_conv2'], style_layers = block1_conv1 .. block5_conv1 of Keras's
    # VGG19 (max pooling); style_weight=1e-2 / num_style_layers, content_weight=1e4;
    # image = tf.Variable(content_image) in [0, 1]; Adam(learning_rate=0.02, beta_1=0.99,
    # epsilon=1e-1), clip_0_1 after every step; epochs = 10 x steps_per_epoch = 100
    'keras-tutorial': dict(content=('conv5_2',), after_relu=True, pooling='max',
                           weights=(1e4, 1e-2, 0), layer_weights=(0.2,) * 5,
                           noise=(0.0, None, None), optimizer='adam',
                           adam={'learning_rate': 0.02, 'beta1': 0.99, 'epsilon': 0.1},
                           pixel_scale=1, lr_decay=False, clip=True, steps=1000),
    # https://github.com/log0/neural-style-painting/blob/a8395c727ea23300841c7b14f4536a743634e463/art.py:
    # every layer _conv2d_relu, _avgpool (avg_pool, padding 'SAME'); content conv4_2 with
    # 1/(4NM); style conv1_1 .. conv5_1 weighted 0.5, 1.0, 1.5, 3.0, 4.0 with 1/(4N^2M^2);
    # BETA = 5 (content), ALPHA = 100 (style); NOISE_RATIO = 0.6 of uniform(-20, 20) on 0-255
    # pixels less MEAN_VALUES; tf.train.AdamOptimizer(2.0); ITERATIONS = 5000
    'gatys-tf1': dict(content=('conv4_2',), after_relu=True, pooling='avg', weights=(5, 100, 0),
                      layer_weights=(0.5, 1, 1.5, 3, 4), noise=(0.6, 'uniform', 20),
                      optimizer='adam', adam={'learning_rate': 2.0}, pixel_scale=255,
                      lr_decay=False, clip=False, steps=5000),
}


@pytest.mark.parametrize('name', list(SOURCES))
def test_each_preset_has_its_sources_values(name):
    preset, source = presets.get(name), SOURCES[name]
    backbone = preset.backbones[0]
    assert preset.content_layers[backbone] == source['content']
    assert preset.style_layers == ('conv1_1', 'conv2_1', 'conv3_1', 'conv4_1', 'conv5_1')
    assert preset.after_relu == source['after_relu'] and preset.pooling == source['pooling']
    assert (preset.content_weight, preset.style_weight, preset.tv_weight) == source['weights']
    assert preset.style_layer_weights == source['layer_weights']
    ratio, distribution, scale = source['noise']
    assert preset.noise_ratio == ratio
    if ratio:
        assert (preset.noise, preset.noise_scale) == (distribution, scale)
    assert preset.optimizer == source['optimizer'] and preset.adam == source['adam']
    assert preset.pixel_scale == source['pixel_scale']
    assert (preset.lr_decay, preset.clip, preset.num_steps) == (
        source['lr_decay'], source['clip'], source['steps'])
    assert preset.url and preset.departures  # where it comes from, and where the book differs


def test_every_preset_names_its_source_or_is_the_books_own():
    assert set(presets.PRESETS) - set(SOURCES) == {'vgg16-conv5_2'}
    assert 'this book' in presets.get('vgg16-conv5_2').source


@pytest.mark.parametrize('name', ['keras-tutorial', 'gatys-tf1'])
def test_adam_settings_take_the_same_steps_as_adam_on_the_sources_pixels(name):
    """Adam on the source's pixels (pixel_scale * x, x in [0, 1]) and the converted Adam on
    normalised pixels move alike (up to the 2% spread of the channels' deviations, which the
    conversion averages)."""
    preset = presets.get(name)
    s = preset.pixel_scale
    target = s * np.random.RandomState(0).rand(1, 3, 4, 4)
    theirs_x = nd.array(np.full((1, 3, 4, 4), 0.5 * s), dtype='float64')
    std = nd.array(d2l.rgb_std.reshape(1, 3, 1, 1), dtype='float64')
    mean = nd.array(d2l.rgb_mean.reshape(1, 3, 1, 1), dtype='float64')
    X = (theirs_x / s - mean) / std
    theirs = mx.optimizer.get_updater(mx.optimizer.Adam(**preset.adam))
    ours = mx.optimizer.get_updater(mx.optimizer.Adam(**d2l.adam_settings(preset)))
    start = theirs_x.copy()
    for _ in range(5):
        theirs(0, nd.array(2 * (theirs_x.asnumpy() - target), dtype='float64'), theirs_x)
        grad = 2 * (s * (X * std + mean).asnumpy() - target)
        ours(0, nd.array(grad, dtype='float64') * (s * std), X)  # chain rule
    moved_theirs = (theirs_x - start).asnumpy()
    moved_ours = (s * (X * std + mean) - start).asnumpy()
    assert np.abs(moved_theirs).min() > 1e-3 * s
    np.testing.assert_allclose(moved_ours, moved_theirs, rtol=0.03)


def test_gatys_tf1_starts_from_its_uniform_noise_on_0_255_pixels():
    preset = presets.get('gatys-tf1')
    content = nd.array(np.random.RandomState(1).randn(1, 3, 64, 64).astype(np.float32))
    mx.random.seed(0)
    X = d2l.start_image(content, preset)
    noise = (X - 0.4 * content).asnumpy() / 0.6 * (255 * d2l.rgb_std.reshape(1, 3, 1, 1))
    assert np.abs(noise).max() <= 20 + 1e-3 and np.abs(noise).max() > 19.9  # U(-20, 20)
    np.testing.assert_allclose(noise.std(axis=(0, 2, 3)), 20 / np.sqrt(3), rtol=0.03)
    d2l_start = d2l.start_image(content, presets.get('d2l'))
    assert d2l_start is content  # d2l starts from the photograph itself


def test_pixel_bounds_are_pixels_0_and_1():
    low, high = d2l.pixel_bounds(mx.cpu())
    white = Image.new('RGB', (32, 32), (255, 255, 255))
    np.testing.assert_allclose(d2l.preprocess(white, (32, 32))[0, :, 0, 0].asnumpy(),
                               high.asnumpy().ravel(), rtol=1e-6)
    black = d2l.postprocess(nd.broadcast_to(low, (1, 3, 32, 32)))
    assert np.asarray(black).max() == 0


@pytest.mark.parametrize('name', list(presets.PRESETS))
def test_every_preset_runs_on_its_backbone(name):
    preset = presets.get(name)
    backbone = preset.backbones[0]
    content_layers, style_layers = d2l.preset_layers(preset, backbone)
    vgg = weights.load_vgg(backbone)
    assert len(style_layers) == 5 and max(content_layers + style_layers) < len(vgg)
    content = Image.open(ROOT / 'img' / 'tubingen.jpg').convert('RGB')
    style = Image.open(ROOT / 'img' / 'starry_night.jpg').convert('RGB')
    X, history = d2l.stylize(preset, vgg, backbone, content, style, (64, 48), 6, mx.cpu())
    assert X.shape == (1, 3, 48, 64) and history.shape == (6, 5)
    assert np.isfinite(history).all() and history[:, 4].min() < history[0, 4]
    if preset.clip:
        low, high = d2l.pixel_bounds(mx.cpu())
        assert (X >= low).min() and (X <= high).min()


def test_average_pooling_replaces_every_max_pool():
    vgg = weights.load_vgg('vgg19')
    net = d2l.truncated_net(vgg, [25], [0, 5, 10, 19, 28], pooling='avg')
    kinds = {type(layer).__name__ for layer in net}
    assert 'MaxPool2D' not in kinds and 'AvgPool2D' in kinds and len(net) == 29
    assert all(p.grad_req == 'null' for p in net.collect_params().values())


def test_keras_layers_are_taken_after_their_relu():
    content, style = d2l.preset_layers(presets.get('keras-tutorial'), 'vgg19')
    vgg = weights.load_vgg('vgg19')
    assert all(type(vgg[i]).__name__ == 'Activation' for i in content + style)


def test_unknown_preset_names_the_choices():
    with pytest.raises(D2lStyleError, match='gatys-tf1'):
        presets.get('gatys')


def options(**given):
    """The options of stylize as argparse gives them: None where the user gave nothing."""
    names = ('content_weight', 'style_weight', 'tv_weight', 'lr', 'init')
    return argparse.Namespace(preset=given.pop('preset', 'gatys-tf1'),
                              **{name: given.get(name) for name in names})


def test_options_override_their_parts_of_a_preset_and_nothing_else():
    original = presets.get('gatys-tf1')
    assert presets.from_options(options()) == original
    changed = presets.from_options(options(style_weight=7.0, lr=0.5, init='content'))
    assert (changed.style_weight, changed.noise_ratio) == (7.0, 0.0)
    assert changed.adam == dict(original.adam, learning_rate=0.5)
    assert changed.content_layers == original.content_layers
    assert changed.content_weight == original.content_weight
    assert presets.get('gatys-tf1') == original  # the named preset itself is unchanged
    assert presets.from_options(options(preset='d2l', init='noise')).noise_ratio == 1.0


def test_init_names_a_start_or_an_image_file():
    assert presets.init_image(None) is None and presets.init_image('noise') is None
    assert presets.init_image('content') is None
    assert presets.init_image('start.png') == Path('start.png')
