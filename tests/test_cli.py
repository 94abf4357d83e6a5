"""The command line (d2lstyle.cli): every bad input to stylize is refused with one line and
exit code 2, before any work. (train's and transform's refusals are in test_transfer.py.)"""
import shutil

import numpy as np
import pytest
from PIL import Image

from d2lstyle import cli, weights

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
    refused(capsys, CONTENT, STYLE, '-o', tmp_path / 'o.png', '--size', '64', '96', '128',
            '--optimizer', 'adam', 'lbfgs', words=['--optimizer has 2 values for 3 sizes'])
    assert not (tmp_path / 'o.png').exists()


def test_each_stage_takes_the_optimiser_given_for_it(tmp_path, capsys):
    import json
    out = tmp_path / 'o.png'
    assert stylize(CONTENT, STYLE, '-o', out, '--size', '48', '64', '--iterations', '3',
                   '--optimizer', 'adam', 'lbfgs') == 0
    record = json.loads(out.with_suffix('.json').read_text())
    assert [s['optimizer'] for s in record['stages']] == ['adam', 'lbfgs']
    assert 'of Adam' in capsys.readouterr().out


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
