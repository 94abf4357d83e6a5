"""d2lstyle train and transform (d2lstyle.transfer): the shipped models, and every bad input
refused with one line."""
import json

import mxnet as mx
import numpy as np
import pytest
from PIL import Image

from d2lstyle import cli, frameworks, memory, runtime, transfer, transform_tiles, weights

ROOT = weights.Path(__file__).resolve().parents[1]
CONTENT, STYLE = ROOT / 'img' / 'tubingen.jpg', ROOT / 'img' / 'starry_night.jpg'
HELD_OUT = ROOT / 'img' / 'flower.jpg'
MXNET = runtime.framework('mxnet')


PAINTINGS = ['great_wave', 'shipwreck', 'starry_night', 'the_scream', 'woman_with_hat']


def test_the_shipped_models_are_small_and_recorded():
    assert transfer.shipped() == sorted(PAINTINGS + ['starry_night_batchnorm',
                                                     'starry_night_instancenorm'])
    assert sum(p.stat().st_size for p in transfer.MODELS.iterdir()) <= 10_000_000
    for name in transfer.shipped():
        record = json.loads((transfer.MODELS / f'{name}.json').read_text())
        assert set(record['files']) == {f'{name}-symbol.json', f'{name}-0000.params'}
        for file, digest in record['files'].items():
            assert weights.sha256(transfer.MODELS / file) == digest
        assert record['iterations'] > 0 and record['command'] and record['machine']
        assert 'flower.jpg' not in record['data'] and 'tubingen.jpg' not in record['data']


@pytest.mark.parametrize('name', PAINTINGS)
def test_a_network_per_painting_in_float16_that_stylizes(tmp_path, name):
    record = json.loads((transfer.MODELS / f'{name}.json').read_text())
    params = mx.nd.load(str(transfer.MODELS / f'{name}-0000.params'))
    assert {v.dtype for v in params.values()} == {np.float16} and record['stored_as'] == 'float16'
    assert record['float16_difference']['max'] <= 2  # grey levels, against the float32 network
    out = tmp_path / 'out.png'
    assert cli.main(['transform', '--model', name, str(HELD_OUT), str(out)]) == 0
    result = np.asarray(Image.open(out), dtype=float)
    assert result.shape == (342, 512, 3)
    photo = np.asarray(Image.open(HELD_OUT), dtype=float)
    assert np.abs(result - photo).mean() > 10  # it changed the photo, not copied it


# ---- the commands' errors: exit 2, one line naming the problem, nothing written ----------

def refused(capsys, argv, *words):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith('d2lstyle: error: ') and '\n' not in err, err
    for word in words:
        assert str(word) in err, err


def test_transform_refuses_bad_models_and_images(capsys, tmp_path):
    out = tmp_path / 'out.png'
    refused(capsys, ['transform', '--model', str(tmp_path / 'nope'), str(HELD_OUT), str(out)],
            'nope-symbol.json not found', 'starry_night')
    (tmp_path / 'bad-symbol.json').write_text('{"not": "a network"')
    (tmp_path / 'bad-0000.params').write_bytes(b'\0' * 100)
    refused(capsys, ['transform', '--model', str(tmp_path / 'bad'), str(HELD_OUT), str(out)],
            'bad-symbol.json', 'export it again')
    broken = tmp_path / 'broken.jpg'
    broken.write_bytes(HELD_OUT.read_bytes()[:2000])
    refused(capsys, ['transform', '--model', 'starry_night', str(broken), str(out)], broken)
    refused(capsys, ['transform', '--model', 'starry_night', str(HELD_OUT), str(tmp_path / 'o.gif')],
            'o.gif')
    refused(capsys, ['transform', '--model', 'starry_night', str(HELD_OUT), str(HELD_OUT)],
            'overwrite an input')
    assert not out.exists()


def test_train_refuses_bad_settings_and_a_mismatched_resume(capsys, tmp_path):
    base = ['train', str(STYLE), '-o', str(tmp_path / 'm')]
    refused(capsys, base + ['--data', str(tmp_path / 'none')], '--data', 'not a folder')
    refused(capsys, base + ['--crop', '30'], '--crop 30', 'multiple of 4')
    refused(capsys, base + ['--batch-size', '3', '--devices', '2'], 'does not split evenly')
    refused(capsys, base + ['--preset', 'nope'], 'nope')
    empty = tmp_path / 'empty'
    empty.mkdir()
    refused(capsys, base + ['--data', str(empty)], empty, 'no .png or .jpg')
    broken = tmp_path / 'broken.jpg'
    broken.write_bytes(STYLE.read_bytes()[:3000])
    refused(capsys, ['train', str(broken), '-o', str(tmp_path / 'm')], broken)
    assert not (tmp_path / 'm.checkpoint').exists()  # nothing written for a refused run
    def tiny(iterations, width=4):
        return base + ['--iterations', str(iterations), '--crop', '64', '--batch-size', '2',
                       '--width', str(width)]
    assert cli.main(tiny(2)) == 0
    capsys.readouterr()
    record = json.loads((tmp_path / 'm.json').read_text())
    assert record['iterations'] == 2 and len(record['losses']) == 2
    refused(capsys, tiny(2, width=8), 'other settings', '--width 4 -> 8')
    assert cli.main(tiny(3)) == 0  # resumes the checkpoint and goes on to 3
    assert json.loads((tmp_path / 'm.json').read_text())['iterations'] == 3


def test_train_on_two_gpus_then_transform_on_one(loaded_on, tmp_path):
    model = tmp_path / 'wave'
    assert cli.main(['train', str(STYLE), '-o', str(model), '--iterations', '2', '--crop', '32',
                     '--batch-size', '2', '--width', '4', '--device', 'gpu', '--devices', '2',
                     '--data', str(ROOT / 'img' / 'photos')]) == 0
    assert loaded_on == [mx.cpu(1)]
    out = tmp_path / 'out.png'
    assert cli.main(['transform', '--model', str(model), str(CONTENT), str(out),
                     '--device', 'gpu']) == 0
    assert Image.open(out).size == Image.open(CONTENT).size


# ---- a photograph too large for one pass: in tiles, with the one pass's result -------------

def one_pass_and_tiled(model, img, max_megapixels, framework=MXNET):
    device = framework.device('cpu')
    whole = transfer.load(framework, model, device)(img)
    tiled = transfer.load(framework, model, device, max_megapixels)(img)
    return np.asarray(whole, dtype=float), np.asarray(tiled, dtype=float)


@pytest.mark.parametrize('framework', frameworks.NAMES)
@pytest.mark.parametrize('model', ['starry_night', 'starry_night_batchnorm', 'the_scream'])
def test_tiles_give_the_one_pass_result(model, framework):
    img = Image.open(CONTENT).convert('RGB').resize((402, 298))  # sides not multiples of 4
    grid = transform_tiles.tiles(404, 300, 0.06)
    assert len(grid) >= 4
    whole, tiled = one_pass_and_tiled(model, img, 0.06, runtime.framework(framework))
    assert np.abs(whole - tiled).max() <= 1  # a grey level of rounding: no seam anywhere


def test_tiles_cover_the_image_once_on_the_network_grid():
    for width, height, megapixels in [(404, 300, 0.06), (4800, 3200, 4), (1200, 96, 0.05)]:
        grid = transform_tiles.tiles(width, height, megapixels)
        covered = np.zeros((height, width), int)
        for tile in grid:
            x0, y0, x1, y1 = tile.core
            covered[y0:y1, x0:x1] += 1
            bx0, by0, bx1, by1 = tile.box
            assert (bx1 - bx0) * (by1 - by0) <= megapixels * 1e6
            assert all(v % transform_tiles.ALIGN == 0 for v in tile.box + tile.core)
            for inner, outer, edge in [(x0, bx0, 0), (y0, by0, 0), (x1, bx1, width), (y1, by1, height)]:
                assert outer == edge or abs(inner - outer) == transform_tiles.MARGIN
        assert (covered == 1).all()


def test_tiles_without_margins_or_whole_image_statistics_show_their_seams(monkeypatch):
    """The check above can fail: cut edges without margins, or tiles normalised by their own
    statistics, change the result by far more than rounding."""
    img = Image.open(CONTENT).convert('RGB').resize((400, 300))
    tiles = transform_tiles.tiles
    monkeypatch.setattr(transform_tiles, 'tiles', lambda *a: tiles(*a, margin=0))
    whole, tiled = one_pass_and_tiled('starry_night', img, 0.03)
    assert np.abs(whole - tiled).max() > 50
    monkeypatch.undo()
    one_tile = transfer.load(MXNET, 'starry_night', mx.cpu())
    left, right = (one_tile(img.crop((x, 0, x + 200, 300))) for x in (0, 200))
    own = np.concatenate([np.asarray(left, float), np.asarray(right, float)], axis=1)
    assert np.abs(whole - own).mean() > 5  # grey levels on average, against under 0.01


def test_transform_passes_a_large_photograph_in_tiles(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(memory, 'TRANSFORM_TILE_MEGAPIXELS', 0.06)
    out = tmp_path / 'out.png'
    assert cli.main(['transform', '--model', 'starry_night', str(HELD_OUT), str(out)]) == 0
    assert ' tiles)' in capsys.readouterr().out
    whole = transfer.load(MXNET, 'starry_night', mx.cpu())(Image.open(HELD_OUT).convert('RGB'))
    assert np.abs(np.asarray(whole, float) - np.asarray(Image.open(out), float)).max() <= 1
    (tmp_path / 'bad-symbol.json').write_text(transfer.model_prefix('starry_night')
                                              .with_name('starry_night-symbol.json').read_text())
    params = mx.nd.load(str(transfer.MODELS / 'starry_night-0000.params'))
    mx.nd.save(str(tmp_path / 'bad-0000.params'), dict(list(params.items())[1:]))
    refused(capsys, ['transform', '--model', str(tmp_path / 'bad'), str(HELD_OUT),
                     str(tmp_path / 'o.png')], 'bad-symbol.json', 'no values for', 'export it again')
    assert not (tmp_path / 'o.png').exists()
