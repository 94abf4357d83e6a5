"""Spatial control (chapter 5, ``stylize --mask``): the guided loss is chapter 2's for one region
of ones, a region's result is nearer its own painting than the other, a region left as the
photograph stays near it (in one piece, in tiles and in planned stages), and every bad mask is
refused in one line before any work."""
import json

import cv2
import numpy as np
import pytest
from PIL import Image

from d2lstyle import cli, frameworks, memory, presets, runtime, weights
from test_cli import refused

ROOT = weights.Path(__file__).resolve().parents[1]
IMG = ROOT / 'img'
CONTENT, STARRY, WAVE = IMG / 'tubingen.jpg', IMG / 'starry_night.jpg', IMG / 'great_wave.jpg'
REGIONS = IMG / 'tubingen_regions.png'  # sky red, river and trees blue, houses lime
THREE = [CONTENT, STARRY, WAVE, 'none', '--mask', REGIONS, '--mask-colors', 'red', 'blue',
         'lime']
BOTH = pytest.mark.parametrize('framework', frameworks.NAMES)


def stylize(*args, framework='pytorch'):
    return cli.main(['stylize', *map(str, args), '--framework', framework])


def region(k, size):
    """Region k (0 sky, 1 river, 2 houses) of the shipped mask at size, hard."""
    colours = np.array([[255, 0, 0], [0, 0, 255], [0, 255, 0]])
    pixels = np.asarray(Image.open(REGIONS).convert('RGB').resize(size, Image.NEAREST), int)
    return (np.abs(pixels - colours[k]).sum(axis=-1) == 0).astype(np.float32)


@pytest.fixture(scope='module')
def judge():
    """Chapter 4's judge, VGG-16's style layers, and chapter 5's masked_grams on it: the style
    distance of an image inside a mask to a painting, over the photograph's (1: no nearer)."""
    d2l = runtime.framework('pytorch').d2l
    names = weights.conv_layers('vgg16')
    layers = [names[n] for n in presets.STYLE_LAYERS]
    net = d2l.truncated_net(weights.load_torch_vgg('vgg16', 'cpu'), [], layers)
    features = lambda X: d2l.extract_features(net, X, [], layers)

    def distance(img, mask, painting):
        grams = lambda im, m: d2l.masked_grams(features, d2l.preprocess(im, img.size), m)
        target = grams(Image.open(painting).convert('RGB'), None)
        d = lambda G: sum(((a - b) ** 2).mean().item() for a, b in zip(G, target))
        return d(grams(img, mask)) / d(grams(Image.open(CONTENT).convert('RGB'), mask))
    return distance


def pixel_distance(img, mask):
    d = np.asarray(img, float) - np.asarray(Image.open(CONTENT).convert('RGB').resize(img.size), float)
    return float(np.sqrt((d ** 2 * mask[..., None]).sum() / (3 * mask.sum())))


def check_control(out, judge):
    """Each painted region nearer its own painting, the houses near the photograph."""
    img = Image.open(out).convert('RGB')
    sky, river, houses = (region(k, img.size) for k in range(3))
    assert judge(img, sky, STARRY) < judge(img, sky, WAVE)
    assert judge(img, river, WAVE) < judge(img, river, STARRY)
    # the styled regions move far from the photograph; the houses are the photograph, put back
    # (blended across a narrow edge)
    assert pixel_distance(img, houses) < 0.5 * min(pixel_distance(img, sky),
                                                   pixel_distance(img, river))
    whole = np.asarray(Image.fromarray(np.uint8(region(2, Image.open(REGIONS).size) * 255))
                       .resize(img.size, Image.BOX)) == 255  # pixels wholly of the houses
    inside = cv2.erode(np.uint8(whole), np.ones((5, 5), np.uint8)) > 0
    photo = np.asarray(Image.open(CONTENT).convert('RGB').resize(img.size, Image.BICUBIC), int)
    assert inside.any() and np.abs(np.asarray(img, int) - photo)[inside].max() <= 1


@BOTH
def test_each_region_takes_its_own_painting_and_none_keeps_the_photograph(tmp_path, judge,
                                                                           framework):
    out = tmp_path / 'out.png'
    assert stylize(*THREE, '-o', out, '--size', '160', '--iterations', '40', '--optimizer',
                   'lbfgs', framework=framework) == 0
    check_control(out, judge)
    record = json.loads(out.with_suffix('.json').read_text())
    assert record['status'] == 'done' and record['settings']['mask'] == [str(REGIONS)]


def test_regions_work_in_tiles_and_planned_stages(tmp_path, monkeypatch, capsys, judge):
    monkeypatch.setattr(memory, 'tile_megapixels', lambda gpu_gb=None: 0.008)
    monkeypatch.setattr(memory, 'OVERLAP', 16)
    out = tmp_path / 'out.png'
    assert stylize(*THREE, '-o', out, '--size', '160', framework='mxnet') == 0
    shown = capsys.readouterr().out
    assert 'planned for --size 160' in shown and ' tiles' in shown
    check_control(out, judge)


def test_the_guided_loss_of_one_region_of_ones_is_chapter_2s_loss():
    for name in frameworks.NAMES:
        fw = runtime.framework(name)
        d2l, dev = fw.d2l, fw.device('cpu')
        preset = presets.get('d2l')
        content_layers, style_layers = d2l.preset_layers(preset, 'vgg19')
        net = d2l.truncated_net(fw.load_vgg('vgg19', dev), content_layers, style_layers)
        features = lambda X: d2l.extract_features(net, X, content_layers, style_layers)
        X = fw.to(d2l.preprocess(Image.open(CONTENT).convert('RGB'), (64, 48)), dev)
        S = fw.to(d2l.preprocess(Image.open(STARRY).convert('RGB'), (64, 48)), dev)
        contents_Y, styles_Y = features(X)
        grams = d2l.masked_grams(features, S)
        weights_ = d2l.loss_weights(preset, [Y.shape[1] for Y in styles_Y])
        plain = d2l.StyleLoss(net, content_layers, style_layers, styles_Y, *weights_)
        guided = d2l.GuidedStyleLoss(net, content_layers, style_layers, styles_Y, *weights_,
                                     num_regions=1)
        ones = d2l.mask_arrays(np.ones((1, 48, 64), np.float32), styles_Y, dev)
        Y = S * 0.5 + X * 0.5
        a = [d2l.scalar(v) for v in plain(Y, *d2l.loss_targets(contents_Y, grams))]
        b = [d2l.scalar(v) for v in guided(Y, *d2l.guided_targets(
            contents_Y, [[G] for G in grams], ones))]
        assert a[1] > 0 and np.allclose(a, b, rtol=1e-5), (name, a, b)


def test_a_mask_of_another_scale_is_resized(tmp_path):
    half = tmp_path / 'half.png'
    Image.open(REGIONS).resize((512, 384), Image.NEAREST).save(half)
    out = tmp_path / 'out.png'
    args = THREE[:5] + [half] + THREE[6:]
    assert stylize(*args, '-o', out, '--size', '64', '--iterations', '2') == 0


def grey(path, value, size=(1024, 768)):
    Image.new('L', size, value).save(path)
    return path


def refuse(capsys, tmp_path, *args, words):
    out = tmp_path / 'out.png'
    refused(capsys, *args, '-o', out, words=words)
    assert not out.exists() and not out.with_suffix('.json').exists()


def test_a_mask_that_is_not_an_image_is_refused(tmp_path, capsys):
    bad = tmp_path / 'mask.png'
    bad.write_text('not a picture')
    refuse(capsys, tmp_path, CONTENT, STARRY, '--mask', bad, words=['mask.png', 'not an image'])


def test_a_mask_of_another_shape_is_refused(tmp_path, capsys):
    square = tmp_path / 'square.png'
    Image.open(REGIONS).resize((500, 500)).save(square)
    refuse(capsys, tmp_path, *THREE[:5], square, *THREE[6:],
           words=['square.png', '500x500', '1024x768', 'shape'])


def test_a_colour_with_no_painting_is_refused(tmp_path, capsys):
    refuse(capsys, tmp_path, CONTENT, STARRY, WAVE, '--mask', REGIONS, '--mask-colors', 'red',
           'blue', words=['tubingen_regions.png', '#00ff00', 'does not name'])


def test_a_painting_with_no_region_is_refused(tmp_path, capsys):
    refuse(capsys, tmp_path, CONTENT, STARRY, WAVE, 'none', IMG / 'the_scream.jpg', '--mask',
           REGIONS, '--mask-colors', 'red', 'blue', 'lime', 'yellow',
           words=['the_scream.jpg', 'empty'])


def test_an_empty_grey_region_is_refused(tmp_path, capsys):
    refuse(capsys, tmp_path, CONTENT, STARRY, WAVE, '--mask', grey(tmp_path / 'a.png', 255),
           grey(tmp_path / 'b.png', 0), words=['great_wave.jpg', 'empty'])


@pytest.mark.parametrize('extra, words', [
    (['--mask-colors', 'red'], ['--mask-colors', 'needs --mask']),
    (['none'], ['none', 'needs --mask']),
    (['--mask', REGIONS, '--mask-colors', 'red', 'blue', '--style-blend-weights', '1', '2'],
     ['--style-blend-weights']),
    (['--mask', REGIONS, '--mask-colors', 'red'], ['--mask-colors', '(1 given)']),
    (['--mask', REGIONS, '--mask-colors', 'red', 'bleu'], ['bleu', 'not a colour']),
    (['none', '--mask', REGIONS, '--mask-colors', 'red', 'blue', 'lime', '--style-masks', 'all'],
     ['--style-masks', '1 values', '3 paintings']),
])
def test_bad_region_options_are_refused(tmp_path, capsys, extra, words):
    refuse(capsys, tmp_path, CONTENT, STARRY, WAVE, *extra, words=words)


def test_bad_painting_masks_are_refused(tmp_path, capsys):
    refuse(capsys, tmp_path, *THREE, '--style-masks', 'all', 'all',
           grey(tmp_path / 's.png', 255), words=['s.png', 'none', 'all'])
    refuse(capsys, tmp_path, *THREE, '--style-masks',
           grey(tmp_path / 'e.png', 0, (1024, 640)), 'all', 'all', words=['e.png', 'empty'])
    refuse(capsys, tmp_path, *THREE, '--style-masks',
           grey(tmp_path / 'w.png', 255, (300, 300)), 'all', 'all',
           words=['w.png', '300x300', 'starry_night.jpg'])


def test_a_painting_mask_takes_the_style_from_its_region(tmp_path, judge):
    """The sky of the painting only: the photograph's sky ends nearer that part of the painting
    than with the whole painting as its target."""
    painting_sky = tmp_path / 'painting_sky.png'
    m = np.zeros((640, 1024), np.uint8)
    m[:350, 300:] = 255
    Image.fromarray(m).save(painting_sky)
    crop = tmp_path / 'starry_sky.png'
    Image.open(STARRY).crop((300, 0, 1024, 350)).save(crop)
    args = THREE + ['--size', '128', '--iterations', '30', '--optimizer', 'lbfgs']
    whole, part = tmp_path / 'whole.png', tmp_path / 'part.png'
    assert stylize(*args, '-o', whole) == 0
    assert stylize(*args, '--style-masks', painting_sky, 'all', 'all', '-o', part) == 0
    sky = region(0, Image.open(whole).size)
    assert (judge(Image.open(part).convert('RGB'), sky, crop)
            < judge(Image.open(whole).convert('RGB'), sky, crop))
