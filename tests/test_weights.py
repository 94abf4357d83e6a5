"""The weights are the real ImageNet ones, converted correctly, and bad files are caught."""
import pickle
import shutil

import mxnet as mx
import numpy as np
import pytest
from PIL import Image

from d2lstyle import weights
from d2lstyle.weights import WeightsError

ROOT = weights.Path(__file__).resolve().parents[1]


@pytest.fixture
def tmp_cache(tmp_path, monkeypatch):
    """An empty cache holding only copies of the verified original files."""
    for name in weights.SOURCES:
        shutil.copy(weights.fetch(name), tmp_path)
    monkeypatch.setenv('D2LSTYLE_CACHE', str(tmp_path))
    return tmp_path


def normalised_crop(path, box, size=(224, 224)):
    img = Image.open(path).convert('RGB').crop(box).resize(size, Image.BICUBIC)
    x = (np.asarray(img, dtype=np.float32) / 255 - weights.RGB_MEAN) / weights.RGB_STD
    return mx.nd.array(x.transpose(2, 0, 1)[None])


def run(net, X, upto):
    for i in range(upto + 1):
        X = net[i](X)
    return X


@pytest.mark.parametrize('name', sorted(weights.SOURCES))
def test_conversion_is_reproducible_from_the_verified_original(tmp_cache, name):
    path = weights.convert(name)
    assert weights.sha256(path) == weights.SOURCES[name].converted_sha256


@pytest.mark.parametrize('name', sorted(weights.SOURCES))
def test_same_painting_is_closer_in_style_than_another_painting(name):
    """The converted network runs on real images and its Gram matrices tell paintings
    apart. (Random weights pass this too, on colour alone: the next test is the one that
    tells trained filters from random ones.)"""
    net = weights.load_vgg(name)

    def gram(path, box, layer=10):
        Y = run(net, normalised_crop(ROOT / 'img' / path, box), layer)
        Y = Y.reshape((Y.shape[1], -1))
        return (mx.nd.dot(Y, Y.T) / Y.size).asnumpy()

    starry_a = gram('starry_night.jpg', (0, 0, 400, 400))
    starry_b = gram('starry_night.jpg', (500, 200, 900, 600))
    others = [gram('great_wave.jpg', (0, 0, 400, 400)),
              gram('the_scream.jpg', (100, 100, 600, 600)),
              gram('shipwreck.jpg', (200, 100, 600, 500))]
    same = np.square(starry_a - starry_b).mean()
    different = min(np.square(starry_a - g).mean() for g in others)
    assert same < 0.8 * different


@pytest.mark.parametrize('name', sorted(weights.SOURCES))
def test_early_filters_are_smooth_as_trained_filters_are(name):
    """Trained first-layer filters are smooth edge and colour detectors: neighbouring taps
    correlate (0.3 to 0.6 measured for both networks); random kernels give about 0."""
    net = weights.load_vgg(name)
    convs = [layer for layer in net if hasattr(layer, 'weight')][:4]
    for conv in convs:
        k = conv.weight.data().asnumpy()
        a = np.concatenate([k[..., :, :-1].ravel(), k[..., :-1, :].ravel()])
        b = np.concatenate([k[..., :, 1:].ravel(), k[..., 1:, :].ravel()])
        assert np.corrcoef(a, b)[0, 1] > 0.25, conv.name


def test_folding_the_caffe_input_into_the_first_layer(tmp_cache):
    """Converted net on preprocess's input == Caffe net on BGR 0..255 minus the mean."""
    raw = weights.read_legacy_torch(weights.fetch('vgg19'))
    kernel = raw['block1_conv1_W_table'][raw['block1_conv1_W_q']]
    bias = raw['block1_conv1_b']
    rgb = np.random.RandomState(0).randint(0, 256, size=(48, 40, 3)).astype(np.float32)
    caffe_in = rgb[:, :, ::-1] - weights.CAFFE_BGR_MEAN
    expected = mx.nd.Convolution(
        mx.nd.array(caffe_in.transpose(2, 0, 1)[None]), mx.nd.array(kernel), mx.nd.array(bias),
        kernel=(3, 3), pad=(1, 1), num_filter=64).asnumpy()
    net = weights.build_net('vgg19', weights.vgg19_kernels(weights.fetch('vgg19'), rescale=False))
    x = (rgb / 255 - weights.RGB_MEAN) / weights.RGB_STD
    got = net[0](mx.nd.array(x.transpose(2, 0, 1)[None])).asnumpy()
    # the border pads differ by 255 * mean - Caffe's mean, under one grey level
    np.testing.assert_allclose(got[..., 1:-1, 1:-1], expected[..., 1:-1, 1:-1],
                               rtol=1e-4, atol=1e-2)


def test_rescaling_divides_every_activation_by_the_same_factor(tmp_cache):
    source = weights.fetch('vgg19')
    plain = weights.build_net('vgg19', weights.vgg19_kernels(source, rescale=False))
    scaled = weights.build_net('vgg19', weights.vgg19_kernels(source, rescale=True))
    X = normalised_crop(ROOT / 'img' / 'tubingen.jpg', (0, 0, 256, 256), (64, 64))
    for layer in (0, 10, 25, 28):
        a, b = run(plain, X, layer).asnumpy(), run(scaled, X, layer).asnumpy()
        np.testing.assert_allclose(b * weights.CAFFE_SCALE, a, rtol=1e-3,
                                   atol=1e-3 * np.abs(a).max())


def test_restricted_unpickler_refuses_other_classes(tmp_path):
    evil = tmp_path / 'evil.ckpt'
    evil.write_bytes(pickle.dumps({'w': shutil.rmtree}))
    with pytest.raises(pickle.UnpicklingError, match='shutil.rmtree is not allowed'):
        weights.read_pickle(evil)


def test_tampered_original_is_caught_with_how_to_fetch_again(tmp_cache):
    path = tmp_cache / weights.Path(weights.SOURCES['vgg19'].member).name
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(WeightsError, match=r'sha256.*python -m d2lstyle.weights vgg19'):
        weights.fetch('vgg19')
    assert path.stat().st_size == 1000  # reported, not silently replaced


def test_tampered_converted_params_are_caught(tmp_cache):
    path = weights.convert('vgg16')
    data = bytearray(path.read_bytes())
    data[-10] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(WeightsError, match=r'vgg16.params does not match its sha256.*rm '):
        weights.load_vgg('vgg16')


def test_unknown_backbone():
    with pytest.raises(WeightsError, match="unknown backbone 'vgg11'.*vgg19, vgg16, model_zoo"):
        weights.load_vgg('vgg11')


def test_model_zoo_offline_fails_clearly(tmp_path, monkeypatch):
    monkeypatch.setenv('D2LSTYLE_CACHE', str(tmp_path))
    try:
        weights.load_vgg('model_zoo')
    except WeightsError as err:
        assert "offline, use the backbone 'vgg19'" in str(err)
        assert 'needs a network' in str(err) or 'gluoncv cannot be imported' in str(err)
    else:
        pytest.skip('online: the model zoo download worked')
