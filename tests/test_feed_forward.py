"""Chapter 6's teaching code (d2lstyle.mxnet.feed_forward): the transform network, its
perceptual loss, training (resumable, data-parallel) and export."""
import json

import mxnet as mx
import numpy as np
import pytest
from mxnet import autograd, nd
from PIL import Image

from d2lstyle import D2lStyleError, presets, weights
from d2lstyle import mxnet as d2l

ROOT = weights.Path(__file__).resolve().parents[1]
PHOTOS, STYLE = ROOT / 'img' / 'photos', ROOT / 'img' / 'starry_night.jpg'
HELD_OUT = ROOT / 'img' / 'flower.jpg'


@pytest.fixture(scope='module')
def vgg():
    return weights.load_vgg('vgg19', mx.cpu())


@pytest.fixture(scope='module')
def setup(vgg):
    loss, grams = d2l.perceptual_loss(vgg, presets.get('d2l'), d2l.read_image(STYLE), 64, 64,
                                      mx.cpu())
    return loss, grams


def new_net(width=4, norm='instance', ctx=mx.cpu(), seed=0):
    mx.random.seed(seed)
    net = d2l.TransformNet(width, norm)
    net.initialize(mx.init.Xavier(), ctx=ctx)
    return net


def test_the_network_keeps_the_size_and_stylize_photo_takes_any_size():
    net = new_net()
    assert net(nd.random.normal(shape=(2, 3, 48, 64))).shape == (2, 3, 48, 64)
    img = Image.open(HELD_OUT).convert('RGB').resize((101, 67))
    assert d2l.stylize_photo(net, img, mx.cpu()).size == (101, 67)


def test_upsample_repeats_each_pixel_in_a_2x2_block():
    X = nd.arange(4).reshape((1, 1, 2, 2))
    assert d2l.Upsample()(X)[0, 0].asnumpy().tolist() == [
        [0, 0, 1, 1], [0, 0, 1, 1], [2, 2, 3, 3], [2, 2, 3, 3]]


def test_perceptual_loss_of_one_image_is_chapter_2s_style_loss(setup):
    loss, grams = setup
    photo = nd.random.normal(shape=(1, 3, 64, 64))
    Y_hat = photo + 0.3 * nd.random.normal(shape=photo.shape)
    contents_Y, _ = d2l.extract_features(loss.net, photo, loss.content_layers, loss.style_layers)
    style_loss = d2l.StyleLoss(loss.net, loss.content_layers, loss.style_layers,
                               [nd.zeros(n) for n in loss.sizes], loss.content_weight,
                               loss.style_weights, loss.tv_weight)
    expected = [l.asscalar() for l in style_loss(Y_hat, *contents_Y, *grams)]
    assert min(expected) > 0
    assert [l.asscalar() for l in loss(Y_hat, photo, *grams)] == pytest.approx(expected, rel=1e-4)


def test_a_batch_loss_is_the_mean_of_its_images_losses(setup):
    loss, grams = setup
    photos = nd.random.normal(shape=(2, 3, 64, 64))
    Y_hat = photos * 0.5
    both = [l.asscalar() for l in loss(Y_hat, photos, *grams)]
    each = [[l.asscalar() for l in loss(Y_hat[i:i + 1], photos[i:i + 1], *grams)] for i in (0, 1)]
    assert np.min(each) > 0 and each[0] != pytest.approx(each[1], rel=1e-3)
    assert both == pytest.approx(np.mean(each, axis=0), rel=1e-4)


def test_the_photo_gets_no_gradient_only_the_generated_image(setup):
    loss, grams = setup
    photo, Y_hat = nd.random.normal(shape=(1, 3, 64, 64)), nd.random.normal(shape=(1, 3, 64, 64))
    photo.attach_grad()
    Y_hat.attach_grad()
    with autograd.record():
        total = loss(Y_hat, photo, *grams)[-1]
    total.backward()
    assert nd.abs(photo.grad).sum().asscalar() == 0
    assert nd.abs(Y_hat.grad).sum().asscalar() > 0


def test_a_separate_unrecorded_pass_of_the_photos_gives_the_same_loss_and_gradient(setup):
    # chapter 6's form (b): the photographs up to the content layer without recording, then
    # chapter 2's StyleLoss on the generated images; the one-batch form must agree with it
    loss, grams = setup
    photos = nd.random.normal(shape=(2, 3, 64, 64))
    separate = d2l.StyleLoss(loss.net, loss.content_layers, loss.style_layers,
                             [nd.zeros(n) for n in loss.sizes], loss.content_weight,
                             loss.style_weights, loss.tv_weight)
    Y = photos
    for i in range(max(loss.content_layers) + 1):
        Y = loss.net[i](Y)
    results = []
    for f in (lambda Y_hat: loss(Y_hat, photos, *grams), lambda Y_hat: separate(Y_hat, Y, *grams)):
        Y_hat = photos * 0.5
        Y_hat.attach_grad()
        with autograd.record():
            losses = f(Y_hat)
        losses[-1].backward()
        results.append(([l.asscalar() for l in losses], Y_hat.grad.asnumpy()))
    (one, one_grad), (two, two_grad) = results
    assert min(one) > 0 and one == pytest.approx(two, rel=1e-4)
    assert np.abs(one_grad).sum() > 0 and np.allclose(one_grad, two_grad, rtol=1e-3, atol=1e-6)


def test_training_lowers_the_loss_and_resumes_where_it_stopped(setup, tmp_path):
    loss, grams = setup
    loader = d2l.photo_loader(PHOTOS, 64, 2)
    mx.random.seed(1)
    net = new_net(8)
    history = d2l.train_transform_net(net, loss, grams, loader, 30, 1e-2, [mx.cpu()])
    assert history.shape == (30, 6) and history[:, 0].tolist() == list(range(1, 31))
    assert history[-5:, 5].mean() < 0.5 * history[:5, 5].mean()

    folder = tmp_path / 'ck'
    first = d2l.train_transform_net(new_net(), loss, grams, loader, 4, 1e-3, [mx.cpu()],
                                    folder, save_every=2)
    assert json.loads((folder / 'state.json').read_text())['step'] == 4
    assert sorted(p.name for p in folder.iterdir()) == [
        'net-0000004.params', 'state.json', 'trainer-0000004.states']
    resumed = new_net(seed=5)
    more = d2l.train_transform_net(resumed, loss, grams, loader, 6, 1e-3, [mx.cpu()], folder)
    assert more.shape == (6, 6) and np.array_equal(more[:4], first)
    saved = new_net(seed=7)
    saved.load_parameters(str(folder / 'net-0000006.params'))
    for a, b in zip(saved.collect_params().values(), resumed.collect_params().values()):
        assert np.array_equal(a.data().asnumpy(), b.data().asnumpy())


def test_two_devices_take_the_same_step_as_one(setup):
    loss, grams = setup
    X = nd.random.normal(shape=(4, 3, 64, 64))
    ctxs = [mx.cpu(0), mx.cpu(1)]
    nets, history = {}, {}
    for name, devices in [('one', [mx.cpu(0)]), ('two', ctxs)]:
        loss.collect_params().reset_ctx(devices)
        nets[name] = new_net(ctx=devices, norm=None)
        history[name] = d2l.train_transform_net(nets[name], loss, grams, [X], 1, 1e-2, devices)
    loss.collect_params().reset_ctx(mx.cpu())
    fresh = new_net(norm=None)
    fresh(X)  # initialises it (deferred) with the seed the others started from
    params = [[p.data(ctx).asnumpy() for p in net.collect_params().values()]
              for net, ctx in [(nets['one'], mx.cpu(0)), (nets['two'], mx.cpu(1)), (fresh, mx.cpu())]]
    assert history['two'][0, 2:] == pytest.approx(history['one'][0, 2:], rel=1e-4)
    # Adam's first step is about lr * sign(gradient). Without normalisation every gradient is
    # real; with instance norm, the biases it cancels have gradients of rounding noise only.
    for one, two in zip(params[0], params[1]):
        assert np.allclose(one, two, atol=1e-5)
    assert any(not np.allclose(one, fresh) for one, fresh in zip(params[0], params[2]))


def test_an_exported_network_loads_and_gives_the_same_image(tmp_path):
    net = new_net()
    X = nd.random.normal(shape=(1, 3, 40, 52))
    files = d2l.export_model(net, tmp_path / 'm')
    assert [f.name for f in files] == ['m-symbol.json', 'm-0000.params']
    loaded = d2l.load_model(tmp_path / 'm', mx.cpu())
    assert np.allclose(loaded(X).asnumpy(), net(X).asnumpy(), atol=1e-5)


def test_a_folder_without_photos_or_no_folder_is_refused(tmp_path):
    (tmp_path / 'notes.txt').write_text('no photos here')
    with pytest.raises(D2lStyleError, match='no .png or .jpg photographs'):
        d2l.PhotoFolder(tmp_path)
    with pytest.raises(D2lStyleError, match='not a folder'):
        d2l.PhotoFolder(tmp_path / 'notes.txt')


def test_a_checkpoint_names_its_files_only_once_they_are_on_disk(tmp_path, monkeypatch):
    """A crash of the machine must not leave state.json naming a file still in its cache:
    save_checkpoint flushes the framework's files before state.json, which is flushed last."""
    import os
    from d2lstyle import atomic
    flushed = []

    def fsync(fd):
        flushed.append(weights.Path(os.readlink(f'/proc/self/fd/{fd}')).name)
    monkeypatch.setattr(atomic.os, 'fsync', fsync)
    net = d2l.TransformNet(width=4)
    net.initialize(mx.init.Xavier())
    net(nd.zeros((1, 3, 32, 32)))
    trainer = mx.gluon.Trainer(net.collect_params(), 'adam')
    d2l.save_checkpoint(tmp_path, net, trainer, {'step': 3, 'seconds': 1.0, 'history': []})
    assert flushed[:2] == ['net-0000003.params', 'trainer-0000003.states']
    assert flushed[2].startswith('.state.json.') and len(flushed) == 3
