"""Chapter 1's problem, shared by the tests of the code of chapters 1 to 3: VGG-19 up to
conv5_1 without weight gradients, chapter 1's layers by name, and the Tübingen photograph
against a painting from img/."""
from pathlib import Path

import mxnet as mx
import numpy as np
from PIL import Image

from d2lstyle import presets, weights
from d2lstyle import mxnet as d2l

ROOT = Path(__file__).resolve().parents[1]
CONV = weights.conv_layers('vgg19')
STYLE_LAYERS, CONTENT_LAYERS = [CONV[name] for name in presets.STYLE_LAYERS], [CONV['conv4_4']]


def truncated_vgg19():
    vgg = weights.load_vgg('vgg19')
    net = mx.gluon.nn.HybridSequential()
    for i in range(max(CONTENT_LAYERS + STYLE_LAYERS) + 1):
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
