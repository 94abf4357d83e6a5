"""d2lstyle stylize: real runs at a tiny size, and a clear exit for every bad input."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image

from d2lstyle import cli, weights
from d2lstyle.stylize import original_colors

ROOT = weights.Path(__file__).resolve().parents[1]
CONTENT, STYLE = ROOT / 'img' / 'tubingen.jpg', ROOT / 'img' / 'starry_night.jpg'
TINY = ['--size', '64', '--iterations', '3']


def stylize(*args):
    return cli.main(['stylize', *map(str, args)])


def refused(capsys, *args, words=()):
    """Exit code 2 and one line on stderr that names the problem."""
    assert stylize(*args) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith('d2lstyle: error: ') and '\n' not in err and 'Traceback' not in err
    for word in words:
        assert str(word) in err
    return err


def test_a_tiny_run_writes_image_record_and_snapshots(tmp_path):
    out = tmp_path / 'new folder' / 'out.png'
    assert stylize(CONTENT, STYLE, '-o', out, *TINY, '--save-every', '2') == 0
    assert Image.open(out).size == (64, 48)
    assert Image.open(out.with_name('out_2.png')).size == (64, 48)
    record = json.loads(out.with_suffix('.json').read_text())
    assert record['status'] == 'done' and len(record['losses']) == 3
    assert record['versions']['mxnet'] == '1.9.1' and record['resolved']['style_weight'] == 1e3
    assert record['losses'][-1]['seconds'] >= record['losses'][0]['seconds'] > 0
    assert record['elapsed_seconds'] > 0


def test_two_stages_blend_two_styles_keep_colours(tmp_path):
    out = tmp_path / 'out.jpg'
    code = stylize(CONTENT, STYLE, ROOT / 'img' / 'great_wave.jpg', '-o', out,
                   '--size', '64', '96', '--iterations', '2', '--style-blend-weights', '3', '1',
                   '--original-colors', '--init', 'noise', '--style-scale', '0.8')
    assert code == 0 and Image.open(out).size == (96, 72)
    record = json.loads(out.with_suffix('.json').read_text())
    assert [e['stage'] for e in record['losses']] == [1, 1, 2, 2]


def test_lbfgs_logs_every_evaluation_and_keeps_the_best_image(tmp_path):
    out = tmp_path / 'out.png'
    code = stylize(CONTENT, STYLE, '-o', out, '--size', '64', '--iterations', '8',
                   '--optimizer', 'lbfgs', '--init', 'noise')
    assert code == 0 and Image.open(out).size == (64, 48)
    record = json.loads(out.with_suffix('.json').read_text())
    totals = [e['total'] for e in record['losses']]
    assert record['status'] == 'done' and len(totals) == 8 and min(totals) < totals[0]
    assert record['settings']['optimizer'] == 'lbfgs'


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


def test_stage_shape_keeps_the_aspect_ratio():
    assert cli.stage_shape((1024, 768), 300) == (300, 225)
    assert cli.stage_shape((600, 800), 300) == (225, 300)
    assert cli.stage_shape((300, 200), 300, scale=0.5) == (150, 100)


def test_divergence_stops_early_and_keeps_the_last_good_image(tmp_path, capsys):
    out = tmp_path / 'out.png'
    assert stylize(CONTENT, STYLE, '-o', out, '--size', '64', '--iterations', '50',
                   '--lr', '1e6') == 1
    record = json.loads(out.with_suffix('.json').read_text())
    assert record['status'].startswith('diverged: the loss became')
    assert len(record['losses']) < 10  # caught within a few iterations
    assert all(np.isfinite(e['total']) for e in record['losses'])
    assert Image.open(out).size == (64, 48)
    assert 'lower --lr' in capsys.readouterr().err


def test_ctrl_c_saves_the_image_and_the_record(tmp_path):
    out = tmp_path / 'out.png'
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, '-m', 'd2lstyle', 'stylize', str(CONTENT),
                             str(STYLE), '-o', str(out), '--size', '64', '--iterations',
                             '100000', '--save-every', '1'], env=env, stderr=subprocess.PIPE)
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


def test_missing_content(tmp_path, capsys):
    refused(capsys, tmp_path / 'nope.jpg', STYLE, '-o', tmp_path / 'o.png',
            words=['nope.jpg', 'no such file'])


def test_directory_as_style(tmp_path, capsys):
    refused(capsys, CONTENT, tmp_path, '-o', tmp_path / 'o.png', words=['is a directory'])


def test_corrupt_style(tmp_path, capsys):
    bad = tmp_path / 'cut.jpg'
    bad.write_bytes(STYLE.read_bytes()[:5000])
    refused(capsys, CONTENT, bad, '-o', tmp_path / 'o.png', words=['cut.jpg', 'truncated'])


def test_not_an_image(tmp_path, capsys):
    bad = tmp_path / 'notes.png'
    bad.write_text('hello')
    refused(capsys, bad, STYLE, '-o', tmp_path / 'o.png', words=['notes.png', 'not an image'])


def test_image_too_small(tmp_path, capsys):
    tiny = tmp_path / 'tiny.png'
    Image.new('RGB', (20, 20)).save(tiny)
    refused(capsys, CONTENT, tiny, '-o', tmp_path / 'o.png', words=['tiny.png', 'too small'])


def test_decompression_bomb(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(Image, 'MAX_IMAGE_PIXELS', 1000)
    refused(capsys, CONTENT, STYLE, '-o', tmp_path / 'o.png',
            words=['tubingen.jpg', 'MAX_IMAGE_PIXELS'])


def test_grayscale_rgba_and_16_bit_inputs_work(tmp_path):
    content = Image.open(CONTENT).resize((80, 60))
    content.convert('L').save(tmp_path / 'gray.png')
    content.convert('RGBA').save(tmp_path / 'rgba.png')
    Image.fromarray(np.asarray(content.convert('L'), np.uint16) * 257).save(tmp_path / 'deep.png')
    for name in ('gray.png', 'rgba.png', 'deep.png'):
        out = tmp_path / f'out_{name}'
        assert stylize(tmp_path / name, STYLE, '-o', out, '--size', '64', '--iterations', '1') == 0


def test_output_may_not_overwrite_an_input(tmp_path, capsys):
    style = tmp_path / 'style.png'
    Image.open(STYLE).save(style)
    before = style.read_bytes()
    refused(capsys, CONTENT, style, '-o', style, words=['overwrite an input'])
    assert style.read_bytes() == before


@pytest.mark.parametrize('option, value, words', [
    ('--size', '0', 'must be a positive whole number'),
    ('--size', '-300', 'must be a positive whole number'),
    ('--iterations', 'ten', 'is not a number'),
    ('--style-weight', '-1', 'must be zero or positive'),
    ('--content-weight', 'nan', 'must be zero or positive'),
    ('--lr', '0', 'must be positive'),
])
def test_bad_numbers_are_usage_errors(tmp_path, capsys, option, value, words):
    with pytest.raises(SystemExit) as exit_:
        stylize(CONTENT, STYLE, '-o', tmp_path / 'o.png', option, value)
    assert exit_.value.code == 2 and words in capsys.readouterr().err


def test_sizes_too_small_for_the_network_name_the_option(tmp_path, capsys):
    refused(capsys, CONTENT, STYLE, '-o', tmp_path / 'o.png', '--size', '40',
            words=['--size 40', 'output 40x30', 'minimum of 32'])
    refused(capsys, CONTENT, STYLE, '-o', tmp_path / 'o.png', '--size', '64',
            '--style-scale', '0.5', words=['style image 32x24'])


def test_unknown_preset(tmp_path, capsys):
    refused(capsys, CONTENT, STYLE, '-o', tmp_path / 'o.png', '--preset', 'picasso',
            words=["unknown preset 'picasso'", 'd2l'])


def test_mismatched_blend_weights_and_iterations(tmp_path, capsys):
    refused(capsys, CONTENT, STYLE, '-o', tmp_path / 'o.png', '--style-blend-weights', '1', '2',
            words=['2 values for 1 style images'])
    refused(capsys, CONTENT, STYLE, '-o', tmp_path / 'o.png', '--size', '64', '128',
            '--iterations', '1', '2', '3', words=['3 values for 2 sizes'])


def test_unknown_output_format(tmp_path, capsys):
    refused(capsys, CONTENT, STYLE, '-o', tmp_path / 'o.gif', words=['o.gif', '.png'])


def test_gpu_requested_without_one(tmp_path, capsys):
    import mxnet as mx
    if mx.context.num_gpus():
        pytest.skip('MXNet sees a GPU here')
    refused(capsys, CONTENT, STYLE, '-o', tmp_path / 'o.png', '--device', 'gpu',
            words=['MXNet sees no GPU'])


def test_tampered_weights_say_how_to_recover(tmp_path, capsys, monkeypatch):
    shutil.copy(weights.params_path('vgg19'), tmp_path)
    params = tmp_path / 'vgg19.params'
    params.write_bytes(params.read_bytes()[:-100])
    monkeypatch.setenv('D2LSTYLE_CACHE', str(tmp_path))
    refused(capsys, CONTENT, STYLE, '-o', tmp_path / 'o.png', *TINY,
            words=['vgg19.params does not match its sha256', f'rm {params}'])
