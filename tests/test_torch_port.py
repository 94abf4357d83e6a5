"""tools/torch_train.py, the PyTorch port of chapter 6's step that trained the shipped
networks on a GPU, computes MXNet's network and losses. It runs where PyTorch is installed
(not in the book's environment: pip install torch, CPU wheel, to run it)."""
import dataclasses
import json
import sys
from pathlib import Path

import mxnet as mx
import numpy as np
import pytest
from mxnet import nd

from d2lstyle import mxnet as d2l, presets
from d2lstyle.images import read_image
from d2lstyle.weights import load_vgg

torch = pytest.importorskip('torch')
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / 'tools'))
import gpu_training, torch_train  # noqa: E402


def test_the_port_computes_mxnets_network_and_losses():
    crop, size, weight = 64, 128, 2.0
    painting = ROOT / 'img' / 'starry_night.jpg'
    arrays = gpu_training.make_bundle([painting], crop, size)
    config = json.loads(bytes(arrays.pop('config')).decode())
    mx.random.seed(1)
    net = d2l.TransformNet(16)
    net.initialize(mx.init.Xavier())
    X = nd.random.normal(shape=(2, 3, crop, crop))
    Y = net(X)
    port = torch_train.transform_net(16)
    for p, q in zip(net.collect_params().values(), port.parameters(), strict=True):
        q.data = torch.from_numpy(p.data().asnumpy())
    Y_port = port(torch.from_numpy(X.asnumpy()))
    assert np.abs(Y_port.detach().numpy() - Y.asnumpy()).max() < 1e-4
    preset = dataclasses.replace(presets.get('d2l'), content_weight=weight)
    loss, grams = d2l.perceptual_loss(load_vgg('vgg19'), preset, read_image(painting), size,
                                      crop, mx.cpu())
    expected = [float(v.asscalar()) for v in loss(Y, X, *grams)]
    port_loss = torch_train.Loss(arrays, config, [('starry_night', weight)],
                                 torch.device('cpu'), amp=False)
    got = [float(v) for v in port_loss([Y_port], torch.from_numpy(X.asnumpy()))[0]]
    assert np.allclose(got, expected, rtol=1e-5), (got, expected)
