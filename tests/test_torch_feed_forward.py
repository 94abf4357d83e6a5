"""Chapter 6's PyTorch tab (d2lstyle.torch.feed_forward): the transform network, its perceptual
loss, the random crops, training that resumes where it stopped, and export; and the training
bookkeeping that both tabs share (d2lstyle.common.feed_forward.TrainingRun)."""
import json

import numpy as np
import pytest
import torch

from d2lstyle import D2lStyleError, presets, weights
from d2lstyle import torch as d2l

ROOT = weights.Path(__file__).resolve().parents[1]
PHOTOS, STYLE = ROOT / 'img' / 'photos', ROOT / 'img' / 'starry_night.jpg'


@pytest.fixture(scope='module')
def setup():
    vgg = weights.load_torch_vgg('vgg19', 'cpu')
    return d2l.perceptual_loss(vgg, presets.get('d2l'), d2l.read_image(STYLE), 64, 64, 'cpu')


def new_net(width=4, norm='instance', seed=0):
    torch.manual_seed(seed)
    return d2l.TransformNet(width, norm)


def test_the_network_keeps_the_size_and_stylize_photo_takes_any_size():
    net = new_net().eval()
    with torch.no_grad():
        assert net(torch.zeros(2, 3, 32, 44)).shape == (2, 3, 32, 44)
    img = d2l.read_image(ROOT / 'img' / 'flower.jpg').resize((61, 37))
    assert d2l.stylize_photo(net, img, 'cpu').size == (61, 37)


def test_the_photo_gets_no_gradient_and_the_loss_is_chapter_2s_for_one_image(setup):
    loss, grams = setup
    torch.manual_seed(0)
    photo = torch.randn(1, 3, 64, 64, requires_grad=True)
    Y_hat = (photo.detach() * 0.5).requires_grad_()
    losses = loss(Y_hat, photo, *grams)
    losses[-1].backward()
    assert photo.grad.abs().max() == 0 and Y_hat.grad.abs().sum() > 0  # zero: cut at detach
    with torch.no_grad():
        contents_Y = d2l.extract_features(loss.net, photo, loss.content_layers, loss.style_layers)[0]
    style = d2l.StyleLoss(loss.net, loss.content_layers, loss.style_layers,
                          [torch.zeros(n) for n in loss.sizes], loss.content_weight,
                          loss.style_weights, loss.tv_weight)
    same = style(Y_hat.detach(), *contents_Y, *grams)
    assert [l.item() for l in losses] == pytest.approx([l.item() for l in same], rel=1e-4)


def test_random_crops_are_the_size_asked_and_follow_the_seed():
    img = d2l.read_image(ROOT / 'img' / 'tubingen.jpg')
    torch.manual_seed(3)
    a = [np.asarray(d2l.random_crop(img, 48)) for _ in range(4)]
    torch.manual_seed(3)
    b = [np.asarray(d2l.random_crop(img, 48)) for _ in range(4)]
    assert all(x.shape == (48, 48, 3) for x in a)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not np.array_equal(a[0], a[1])  # each crop is another part of the photo


def test_training_lowers_the_loss_and_resumes_where_it_stopped(setup, tmp_path):
    loss, grams = setup
    torch.manual_seed(1)
    loader = d2l.photo_loader(PHOTOS, 64, 2)
    history = d2l.train_transform_net(new_net(8), loss, grams, loader, 30, 1e-2, 'cpu')
    assert history.shape == (30, 6) and history[:, 0].tolist() == list(range(1, 31))
    assert history[-5:, 5].mean() < 0.5 * history[:5, 5].mean()

    folder = tmp_path / 'ck'
    first = d2l.train_transform_net(new_net(), loss, grams, loader, 4, 1e-3, 'cpu', folder,
                                    save_every=2)
    assert json.loads((folder / 'state.json').read_text())['step'] == 4
    assert sorted(p.name for p in folder.iterdir()) == [
        'net-0000004.pt', 'optimizer-0000004.pt', 'state.json']
    resumed = new_net(seed=5)
    more = d2l.train_transform_net(resumed, loss, grams, loader, 6, 1e-3, 'cpu', folder)
    assert more.shape == (6, 6) and np.array_equal(more[:4], first)
    saved = torch.load(folder / 'net-0000006.pt')
    assert all(torch.equal(saved[k], v) for k, v in resumed.state_dict().items())


def test_an_empty_loader_is_refused_instead_of_looping_forever(setup):
    loss, grams = setup
    with pytest.raises(D2lStyleError, match='the loader gave no batch'):
        d2l.train_transform_net(new_net(), loss, grams, [], 3, 1e-3, 'cpu')


def test_an_exported_network_loads_and_gives_the_same_image(tmp_path):
    net = new_net()
    X = torch.randn(1, 3, 40, 52)
    path = d2l.export_model(net, tmp_path / 'm')
    assert path.name == 'm.pt2'
    loaded = d2l.load_model(tmp_path / 'm', 'cpu')
    with torch.no_grad():
        assert torch.allclose(loaded(X), net(X), atol=1e-5)


def test_a_folder_without_photos_or_no_folder_is_refused(tmp_path):
    (tmp_path / 'notes.txt').write_text('no photos here')
    with pytest.raises(D2lStyleError, match='no .png or .jpg photographs'):
        d2l.PhotoFolder(tmp_path)
    with pytest.raises(D2lStyleError, match='not a folder'):
        d2l.PhotoFolder(tmp_path / 'notes.txt')
