"""d2lstyle stylize (d2lstyle.stylize): real runs at a tiny size, on both frameworks on the CPU
and on MXNet's stand-in GPU; what a run writes, and how it stops."""
import gc
import json
import math
import os
import signal
import subprocess
import sys
import time

import mxnet as mx
import numpy as np
import pytest
from PIL import Image

from d2lstyle import cli, frameworks, memory, plan, weights
from d2lstyle import mxnet as d2l
from d2lstyle import stylize as stylize_command
from d2lstyle.stylize import grid
from d2lstyle.common.control import match_colors, original_colors

ROOT = weights.Path(__file__).resolve().parents[1]
CONTENT, STYLE = ROOT / 'img' / 'tubingen.jpg', ROOT / 'img' / 'starry_night.jpg'
TINY = ['--size', '64', '--iterations', '3']
# the tests that run the command on each framework
BOTH = pytest.mark.parametrize('framework', frameworks.NAMES)


def stylize(*args, framework='mxnet'):
    return cli.main(['stylize', *map(str, args), '--framework', framework])


@BOTH
def test_a_tiny_run_writes_image_record_and_snapshots(tmp_path, framework):
    out = tmp_path / 'new folder' / 'out.png'
    assert stylize(CONTENT, STYLE, '-o', out, *TINY, '--save-every', '2',
                   framework=framework) == 0
    assert Image.open(out).size == (64, 48)
    assert Image.open(out.with_name('out_2.png')).size == (64, 48)
    record = json.loads(out.with_suffix('.json').read_text())
    assert record['status'] == 'done' and len(record['losses']) == 3
    assert record['framework'] == framework
    assert record['device'] == {'mxnet': 'cpu(0)', 'pytorch': 'cpu'}[framework]
    assert framework in record['versions'] and record['resolved']['style_weight'] == 1e3
    assert record['losses'][-1]['seconds'] >= record['losses'][0]['seconds'] > 0
    assert record['elapsed_seconds'] > 0


@BOTH
def test_two_stages_blend_two_styles_keep_colours(tmp_path, framework):
    out = tmp_path / 'out.jpg'
    code = stylize(CONTENT, STYLE, ROOT / 'img' / 'great_wave.jpg', '-o', out,
                   '--size', '64', '96', '--iterations', '2', '--style-blend-weights', '3', '1',
                   '--original-colors', '--init', 'noise', '--style-scale', '0.8',
                   framework=framework)
    assert code == 0 and Image.open(out).size == (96, 72)
    record = json.loads(out.with_suffix('.json').read_text())
    assert [e['stage'] for e in record['losses']] == [1, 1, 2, 2]


@BOTH
def test_lbfgs_logs_every_evaluation_and_keeps_the_best_image(tmp_path, framework):
    out = tmp_path / 'out.png'
    code = stylize(CONTENT, STYLE, '-o', out, '--size', '64', '--iterations', '8',
                   '--optimizer', 'lbfgs', '--init', 'noise', framework=framework)
    assert code == 0 and Image.open(out).size == (64, 48)
    record = json.loads(out.with_suffix('.json').read_text())
    totals = [e['total'] for e in record['losses']]
    assert record['status'] == 'done' and len(totals) == 8 and min(totals) < totals[0]
    assert record['settings']['optimizer'] == ['lbfgs']


@BOTH
def test_a_stage_larger_than_a_tile_is_optimised_in_tiles_without_seams(tmp_path, monkeypatch,
                                                                        capsys, framework):
    monkeypatch.setattr(memory, 'tile_megapixels', lambda gpu_gb=None: 0.004)
    monkeypatch.setattr(memory, 'OVERLAP', 16)
    out = tmp_path / 'out.png'
    assert stylize(CONTENT, STYLE, '-o', out, '--size', '128', '--iterations', '20',
                   '--optimizer', 'lbfgs', framework=framework) == 0
    tiles = len(grid((128, 96), megapixels=0.004))
    assert tiles > 2
    assert f"128x96 in {tiles} tiles: 20 iterations of Adam (tiles take Adam's steps)" in \
        capsys.readouterr().out
    record = json.loads(out.with_suffix('.json').read_text())
    assert record['stages'] == [{'size': 128, 'iterations': 20, 'optimizer': 'adam',
                                 'fallback': None}]
    assert record['fallbacks'] == []
    totals = [e['total'] for e in record['losses']]
    assert min(totals) < 0.7 * totals[0]
    img = Image.open(out)
    assert img.size == (128, 96)
    assert d2l.seam_ratio(img, grid(img.size, megapixels=0.004)) < 1.2


@BOTH
def test_a_final_size_alone_runs_the_planned_stages(tmp_path, monkeypatch, capsys, framework):
    monkeypatch.setattr(plan, 'FIRST_SIDE', 48)
    monkeypatch.setattr(plan, 'FIRST_ITERATIONS', 6)
    monkeypatch.setattr(plan, 'MIN_ITERATIONS', 2)
    monkeypatch.setattr(plan, 'FINAL_ITERATIONS', 2)
    out = tmp_path / 'out.png'
    assert stylize(CONTENT, STYLE, '-o', out, '--size', '96', framework=framework) == 0
    printed = capsys.readouterr().out
    assert '3 stages (planned for --size 96)' in printed and '96x72: 2 iterations of L-BFGS' in printed
    record = json.loads(out.with_suffix('.json').read_text())
    assert [s['size'] for s in record['stages']] == [48, 68, 96]
    assert [e['stage'] for e in record['losses']] == [1] * 6 + [2] * 3 + [3] * 2
    assert Image.open(out).size == (96, 72)


@BOTH
@pytest.mark.parametrize('lr, fallbacks', [(1e-4, []), (1.0, [2])])
def test_a_planned_stage_in_tiles_falls_back_to_lbfgs_where_adams_first_step_fails(
        tmp_path, monkeypatch, capsys, lr, fallbacks, framework):
    monkeypatch.setattr(memory, 'tile_megapixels', lambda gpu_gb=None: 0.004)
    monkeypatch.setattr(memory, 'OVERLAP', 16)
    monkeypatch.setattr(plan, 'FIRST_SIDE', 64)
    monkeypatch.setattr(plan, 'FIRST_ITERATIONS', 4)
    monkeypatch.setattr(plan, 'MIN_ITERATIONS', 6)
    monkeypatch.setattr(plan, 'FINAL_ITERATIONS', 6)
    out = tmp_path / 'out.png'
    assert stylize(CONTENT, STYLE, '-o', out, '--size', '90', '--lr', str(lr),
                   framework=framework) == 0
    printed = capsys.readouterr()
    assert "6 iterations of Adam (L-BFGS from the stage's start instead if Adam's first step " \
        "raises the loss)" in printed.out
    record = json.loads(out.with_suffix('.json').read_text())
    assert record['stages'][1]['fallback'] == 'lbfgs' and record['fallbacks'] == fallbacks
    last = [e['total'] for e in record['losses'] if e['stage'] == 2]
    assert len(last) == 6
    if fallbacks:  # the start, Adam's failed step, then L-BFGS from the start again
        assert "Adam's first step raised the loss; lbfgs goes on" in printed.out
        assert last[1] > last[0] and last[2] == pytest.approx(last[0], rel=1e-5)
        assert min(last[3:]) < last[0]
    else:
        assert last[1] < last[0]


def test_the_fallbacks_lbfgs_memory_is_bounded_whatever_the_size():
    assert memory.lbfgs_history(1200 * 900) == memory.LBFGS_HISTORY
    for pixels in (2400 * 1800, 4800 * 3600, 9600 * 7200):
        pairs = memory.lbfgs_history(pixels)
        assert 1 <= pairs < memory.LBFGS_HISTORY
        assert pairs == 1 or pairs * 2 * 3 * 4 * pixels <= memory.LBFGS_HISTORY_GB * memory.GB


def test_a_finished_stage_leaves_no_loss_block_holding_its_memory(tmp_path, monkeypatch):
    runs = []
    finish = stylize_command.Run.finish
    monkeypatch.setattr(stylize_command.Run, 'finish',
                        lambda self, *args: (runs.append(self), finish(self, *args))[1])
    assert stylize(CONTENT, STYLE, '-o', tmp_path / 'o.png', '--size', '48', '64',
                   '--iterations', '2') == 0
    gc.collect()
    # the run, and with it the network, is still alive; its stages' loss blocks must not be
    # (each holds the memory of its graph at its stage's size)
    net = runs[0].net
    assert not [o for o in gc.get_objects() if isinstance(o, d2l.StyleLoss) and o.net is net]


def test_original_colors_keep_the_contents_chroma():
    content = Image.open(CONTENT).convert('RGB').resize((64, 48))
    painted = Image.open(STYLE).convert('RGB').resize((64, 48))
    mixed = original_colors(painted, content).convert('YCbCr')
    want = content.convert('YCbCr')
    mean_diff = lambda a, b, channel: np.abs(np.asarray(a.getchannel(channel), np.int16) -
                                             np.asarray(b.getchannel(channel), np.int16)).mean()
    # equal up to rounding and to colours that fall outside RGB and are clipped
    assert mean_diff(mixed, painted.convert('YCbCr'), 'Y') < 1.5
    for channel in ('Cb', 'Cr'):
        assert mean_diff(mixed, want, channel) < 1.5
        assert mean_diff(painted.convert('YCbCr'), want, channel) > 5  # the painting's differ


def test_histogram_matching_gives_the_painting_the_photographs_colours():
    content = Image.open(CONTENT).convert('RGB').resize((128, 96))
    painting = Image.open(STYLE).convert('RGB').resize((128, 80))
    matched = match_colors(painting, content)
    moments = lambda img: (np.asarray(img, float).reshape(-1, 3).mean(axis=0),
                           np.cov(np.asarray(img, float).reshape(-1, 3), rowvar=False))
    (m, c), (m_want, c_want), (m_was, _) = moments(matched), moments(content), moments(painting)
    assert np.abs(m - m_want).max() < 3 < np.abs(m_was - m_want).max()  # grey levels
    assert np.abs(c - c_want).max() < 0.1 * np.abs(c_want).max()  # clipping moves it a little
    # the strokes stay: the painting's luminance, up to a linear map
    y = lambda img: np.asarray(img.convert('L'), float).ravel()
    assert np.corrcoef(y(matched), y(painting))[0, 1] > 0.8


def test_colour_transfer_histogram_runs_and_is_recorded(tmp_path):
    outs = {}
    for transfer in ('histogram', None):
        out = tmp_path / f'{transfer}.png'
        extra = ['--color-transfer', transfer] if transfer else []
        assert stylize(CONTENT, STYLE, '-o', out, *TINY, *extra) == 0
        record = json.loads(out.with_suffix('.json').read_text())
        assert record['settings']['color_transfer'] == transfer
        outs[transfer] = np.asarray(Image.open(out), float).reshape(-1, 3).mean(axis=0)
    photo = np.asarray(Image.open(CONTENT).convert('RGB').resize((64, 48)), float)
    photo = photo.reshape(-1, 3).mean(axis=0)
    # the painting's colours, matched first, leave the result nearer the photograph's
    assert np.abs(outs['histogram'] - photo).sum() < np.abs(outs[None] - photo).sum()


@BOTH
def test_divergence_stops_early_and_keeps_the_last_good_image(tmp_path, capsys, framework):
    out = tmp_path / 'out.png'
    assert stylize(CONTENT, STYLE, '-o', out, '--size', '64', '--iterations', '50',
                   '--lr', '1e6', framework=framework) == 1
    record = json.loads(out.with_suffix('.json').read_text())
    assert record['status'].startswith('diverged: the loss became')
    # the picture's loss is bounded: a step this long leaves every value clipped, gradient zero
    assert 'every value of the image left 0..255' in record['status']
    assert len(record['losses']) < 10  # caught within a few iterations
    assert all(np.isfinite(e['total']) for e in record['losses'])
    assert Image.open(out).size == (64, 48)
    assert 'lower --lr' in capsys.readouterr().err


def test_divergence_is_a_loss_not_finite_far_above_the_first_or_above_it_with_no_gradient():
    import types
    from d2lstyle.frameworks import mxnet as framework
    run = types.SimpleNamespace(record={'losses': [{'total': 10.0}]}, iteration=4,
                                framework=framework)
    check = stylize_command.Run.check_divergence
    zero, some = mx.nd.zeros((1, 3, 2, 2)), mx.nd.ones((1, 3, 2, 2))
    for total, grad in ((9.0, zero), (11.0, some), (9e3, some)):
        check(run, total, grad)  # below the first, or moving, or not yet 1000 times it
    for total, grad, why in ((math.nan, some, 'nan'), (2e4, some, 'became 2e\\+04'),
                             (11.0, zero, 'left 0..255')):
        with pytest.raises(stylize_command.Diverged, match=why):
            check(run, total, grad)


@BOTH
def test_ctrl_c_saves_the_image_and_the_record(tmp_path, framework):
    out = tmp_path / 'out.png'
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, '-m', 'd2lstyle', 'stylize', str(CONTENT),
                             str(STYLE), '-o', str(out), '--size', '64', '--iterations',
                             '100000', '--save-every', '1', '--framework', framework],
                            env=env, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while not out.with_name('out_2.png').exists() and time.time() < deadline:
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err.decode()[-500:]
    assert b'Traceback' not in err
    assert Image.open(out).size == (64, 48)
    record = json.loads(out.with_suffix('.json').read_text())
    assert record['status'] == 'interrupted' and len(record['losses']) >= 2
    assert not list(tmp_path.glob('.*.part'))


def test_stylize_runs_on_the_gpu(loaded_on, tmp_path):
    for optimizer in ('adam', 'lbfgs'):
        out = tmp_path / f'{optimizer}.png'
        assert cli.main(['stylize', str(CONTENT), str(STYLE), '-o', str(out), '--size', '48', '64',
                         '--iterations', '2', '2', '--device', 'gpu', '--optimizer', optimizer,
                         '--original-colors']) == 0
        assert Image.open(out).size == (64, 48)
    assert loaded_on == [mx.cpu(1), mx.cpu(1)]
