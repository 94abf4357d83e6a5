"""Inputs that would crash a run: refused with one line before any work, nothing written.

Runs that cannot fit in memory, arrays beyond MXNet's limit, training crops larger than the
photographs, and loops of symbolic links, for stylize, transform and train. The memory
estimate itself is checked against real runs at two sizes.
"""
import importlib.util

import pytest
from PIL import Image

from d2lstyle import cli, memory, weights
from d2lstyle.stylize import grid

ROOT = weights.Path(__file__).resolve().parents[1]
CONTENT, STYLE = ROOT / 'img' / 'tubingen.jpg', ROOT / 'img' / 'starry_night.jpg'
PHOTOS = ROOT / 'img' / 'photos'
BEFORE = b'an earlier result'


def benchmark():
    """benchmarks/memory.py, which measures a command's peak in a process of its own."""
    spec = importlib.util.spec_from_file_location('memory_benchmark',
                                                  ROOT / 'benchmarks' / 'memory.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def out(tmp_path):
    """An output that exists already: a refused run must leave it as it was."""
    path = tmp_path / 'out.png'
    path.write_bytes(BEFORE)
    return path


def refused(capsys, argv, *words):
    assert cli.main([str(a) for a in argv]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith('d2lstyle: error: ') and '\n' not in err, err
    for word in words:
        assert str(word) in err, err
    return err


def untouched(out):
    assert out.read_bytes() == BEFORE
    assert sorted(p.name for p in out.parent.iterdir()) == [out.name]


@pytest.fixture
def little_memory(monkeypatch):
    """A machine with 3 GB available, whatever this one has."""
    monkeypatch.setattr(memory, 'available_gb', lambda ctx=None: 3.0)


def test_a_size_beyond_mxnets_array_limit_is_refused_at_once(capsys, out):
    refused(capsys, ['stylize', CONTENT, STYLE, '-o', out, '--size', 100000, '--iterations', 1],
            '--size 100000', 'MXNet allows', 'smaller --size')
    untouched(out)


def test_a_plan_that_needs_more_memory_than_there_is(capsys, out, little_memory, monkeypatch):
    tile = grid((1200, 900)).tile  # 1200x900 is optimised in two tiles
    need = memory.MODELS['stylize'].need_gb(tile[0] * tile[1] / 1e6, 1.2 * 0.9)
    fits = memory.largest_side('stylize', 0.75)
    refused(capsys, ['stylize', CONTENT, STYLE, '-o', out, '--size', 300, 1200,
                     '--iterations', 1], '--size 1200 (a 1200x900 image)',
            f'about {need:.1f} GB', '3.0 GB is available', f'at most about {fits} fits')
    untouched(out)
    assert 300 < fits < 1200
    # The style image passes in tiles too, so it takes less than 3 GB: offer 2
    monkeypatch.setattr(memory, 'available_gb', lambda ctx=None: 2.0)
    refused(capsys, ['stylize', CONTENT, STYLE, '-o', out, '--size', 300, '--style-scale', 5,
                     '--iterations', 1], '--style-scale 5', '1500x1125 style image',
            'smaller --style-scale')
    untouched(out)


def test_a_plan_that_fits_runs(tmp_path, little_memory):
    assert cli.main(['stylize', str(CONTENT), str(STYLE), '-o', str(tmp_path / 'o.png'),
                     '--size', '64', '--iterations', '1']) == 0


def test_transform_refuses_a_photograph_too_large_for_memory(capsys, out, tmp_path, little_memory):
    photo = tmp_path / 'big.png'
    Image.new('RGB', (3000, 2000), 'white').save(photo)
    fits = memory.largest_side('transform', 2 / 3)
    refused(capsys, ['transform', '--model', 'starry_night', photo, out], 'big.png (3000x2000)',
            '3.0 GB is available', f'downscale it first (a long side of at most about {fits}')
    assert out.read_bytes() == BEFORE


def test_train_refuses_crops_no_photo_can_give_or_memory_can_hold(capsys, tmp_path, little_memory):
    model = tmp_path / 'model'
    base = ['train', STYLE, '-o', model, '--iterations', 1]
    largest = max(min(Image.open(p).size) for p in PHOTOS.iterdir() if p.suffix == '.jpg')
    refused(capsys, base + ['--crop', 100000], '--crop 100000', 'larger than every photograph',
            f'at most {largest // 4 * 4}')
    refused(capsys, base + ['--crop', 128, '--batch-size', 2000], 'MXNet allows', '--batch-size')
    refused(capsys, base + ['--crop', 256, '--batch-size', 16], '--crop 256 with --batch-size 16',
            '3.0 GB is available')
    refused(capsys, base + ['--crop', 64, '--width', 4096], '--width 4096', 'or --width')
    refused(capsys, base + ['--style-size', 2000], '--style-size 2000', '3.0 GB is available',
            'smaller --style-size')
    refused(capsys, base + ['--style-size', 100000], '--style-size 100000', 'MXNet allows')
    assert list(tmp_path.iterdir()) == []  # no checkpoint, no record


@pytest.mark.parametrize('where', ['content', 'style', 'output'])
def test_a_loop_of_symbolic_links_is_refused_in_stylize(capsys, tmp_path, where):
    loop = tmp_path / 'loop.png'
    loop.symlink_to(tmp_path / 'back.png')
    (tmp_path / 'back.png').symlink_to(loop)
    paths = {'content': CONTENT, 'style': STYLE, 'output': tmp_path / 'o.png', where: loop}
    refused(capsys, ['stylize', paths['content'], paths['style'], '-o', paths['output'],
                     '--size', 64, '--iterations', 1], 'loop.png', 'loop of symbolic links')
    assert sorted(p.name for p in tmp_path.iterdir()) == ['back.png', 'loop.png']


def test_a_loop_of_symbolic_links_is_refused_in_transform_and_train(capsys, tmp_path):
    loop = tmp_path / 'loop.jpg'
    loop.symlink_to(tmp_path / 'back.jpg')
    (tmp_path / 'back.jpg').symlink_to(loop)
    out = tmp_path / 'o.png'
    refused(capsys, ['transform', '--model', 'starry_night', loop, out], 'loop of symbolic links')
    refused(capsys, ['transform', '--model', 'starry_night', CONTENT, tmp_path / 'loop.jpg'],
            'loop of symbolic links')
    refused(capsys, ['train', loop, '-o', tmp_path / 'm', '--iterations', 1],
            'loop.jpg', 'loop of symbolic links')
    refused(capsys, ['train', STYLE, '-o', tmp_path / 'm', '--data', loop], '--data')
    assert sorted(p.name for p in tmp_path.iterdir()) == ['back.jpg', 'loop.jpg']


@pytest.mark.parametrize('command, argv, megapixels', [
    ('stylize', ['--size', 128], 128 * 96 / 1e6),
    ('stylize', ['--size', 512], 512 * 384 / 1e6),
    ('transform', [256], 256 * 192 / 1e6),
    ('transform', [1024], 1024 * 768 / 1e6),
    ('train', ['--crop', 64], 2 * 64 * 64 / 1e6),
    ('train', ['--crop', 192], 2 * 192 * 192 / 1e6),
])
def test_the_estimate_covers_a_real_run_without_wasting_half(tmp_path, command, argv, megapixels):
    if command == 'stylize':
        argv = ['stylize', CONTENT, STYLE, '-o', tmp_path / 'o.png', '--iterations', 2, *argv]
    elif command == 'transform':
        photo = tmp_path / 'photo.png'
        Image.open(CONTENT).resize((argv[0], argv[0] * 3 // 4)).save(photo)
        argv = ['transform', '--model', 'starry_night', photo, tmp_path / 'o.png']
    else:
        argv = ['train', STYLE, '-o', tmp_path / 'm', '--iterations', 2, '--batch-size', 2,
                *argv]
    peak = benchmark().peak_gb(argv)
    estimate = memory.MODELS[command].need_gb(megapixels)
    assert peak < estimate < 2 * peak, (peak, estimate)
