"""The commands on PyTorch (``--framework pytorch``, d2lstyle.frameworks): the same plan and
losses as on MXNet, one model format that either framework trains and both read, and every
command run in a Python where MXNet cannot be imported. test_stylize.py runs the stylize
command's own tests on both frameworks."""
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from PIL import Image

from d2lstyle import cli, frameworks, networks, weights

torch = pytest.importorskip('torch')

ROOT = weights.Path(__file__).resolve().parents[1]
CONTENT, STYLE = ROOT / 'img' / 'tubingen.jpg', ROOT / 'img' / 'starry_night.jpg'
PHOTOS = ROOT / 'img' / 'photos'
HELD_OUT = ROOT / 'img' / 'flower.jpg'  # 512x342
# After five of Adam's steps from the same start the two frameworks' losses differ by under
# 0.2% here (float32 sums in another order, a step apart); the first, before any step, by 1e-6.
FIRST, AFTER_STEPS = 1e-5, 1e-2
# L-BFGS's first step is tiny, so its first curvature pair is the difference of two nearly equal
# gradients, in which float32's rounding is no longer small: the frameworks agree on the first
# two evaluations and then take different (both descending) paths.
LBFGS_ALIKE = 2


def run(framework, tmp_path, *options):
    out = tmp_path / framework / 'out.png'
    assert cli.main(['stylize', str(CONTENT), str(STYLE), '-o', str(out), '--framework',
                     framework, *map(str, options)]) == 0
    return json.loads(out.with_suffix('.json').read_text())


@pytest.mark.parametrize('optimizer', ['adam', 'lbfgs'])
def test_both_frameworks_plan_alike_and_agree_on_the_losses(tmp_path, optimizer):
    records = [run(f, tmp_path, '--size', '64', '--iterations', '5', '--optimizer', optimizer)
               for f in frameworks.NAMES]
    mxnet, pytorch = records
    assert mxnet['stages'] == pytorch['stages'] and mxnet['resolved'] == pytorch['resolved']
    a, b = (np.array([e['total'] for e in r['losses']]) for r in records)
    assert len(a) == len(b) == 5
    assert abs(a[0] - b[0]) <= FIRST * a[0]
    alike = slice(None) if optimizer == 'adam' else slice(LBFGS_ALIKE)
    assert (np.abs(a - b) <= AFTER_STEPS * a)[alike].all(), (a, b)
    assert a[-1] < a[0] and b[-1] < b[0]  # and both did optimise


def test_a_planned_run_prints_the_same_plan_on_both(tmp_path, capsys, monkeypatch):
    from d2lstyle import plan
    monkeypatch.setattr(plan, 'FIRST_SIDE', 48)
    monkeypatch.setattr(plan, 'FIRST_ITERATIONS', 2)
    monkeypatch.setattr(plan, 'MIN_ITERATIONS', 1)
    monkeypatch.setattr(plan, 'FINAL_ITERATIONS', 1)
    printed = []
    for framework in frameworks.NAMES:
        run(framework, tmp_path, '--size', '96')
        printed.append([line for line in capsys.readouterr().out.splitlines()
                        if line.startswith(('d2lstyle:', '  '))])
    assert printed[0] == printed[1] and 'planned for --size 96' in printed[0][0]


def test_pytorch_trains_a_model_that_both_frameworks_transform_alike(tmp_path):
    model = tmp_path / 'wave'

    def train(steps, framework='pytorch'):
        return cli.main(['train', str(STYLE), '-o', str(model), '--iterations', str(steps),
                         '--crop', '32', '--batch-size', '2', '--width', '4', '--save-every',
                         '1', '--framework', framework])
    assert train(2) == 0
    record = json.loads(model.with_suffix('.json').read_text())
    assert record['framework'] == 'pytorch' and record['iterations'] == 2
    assert set(record['files']) == {'wave-symbol.json', 'wave-0000.params'}
    results = []
    for framework in frameworks.NAMES:
        out = tmp_path / f'{framework}.png'
        assert cli.main(['transform', '--model', str(model), str(CONTENT), str(out),
                         '--framework', framework]) == 0
        results.append(np.asarray(Image.open(out), dtype=float))
    assert np.abs(results[0] - results[1]).max() <= 1  # a grey level of rounding
    assert results[0].std() > 1  # a picture, not a flat colour
    # the checkpoint resumes on the framework that wrote it, and no other
    assert train(3) == 0
    assert json.loads(model.with_suffix('.json').read_text())['iterations'] == 3
    assert train(4, 'mxnet') == 2


def test_a_large_photograph_passes_in_tiles_on_pytorch_as_on_mxnet(tmp_path, capsys,
                                                                   monkeypatch):
    from d2lstyle import memory
    monkeypatch.setattr(memory, 'TRANSFORM_TILE_MEGAPIXELS', 0.06)
    results = []
    for framework in frameworks.NAMES:
        out = tmp_path / f'{framework}.png'
        assert cli.main(['transform', '--model', 'the_scream', str(HELD_OUT), str(out),
                         '--framework', framework]) == 0
        assert ' tiles)' in capsys.readouterr().out
        results.append(np.asarray(Image.open(out), dtype=float))
    assert np.abs(results[0] - results[1]).max() <= 2  # each within a grey level of one pass


@pytest.mark.parametrize('norm', ['instance', 'batch'])
def test_the_exported_graph_is_the_one_gluon_exports(norm):
    """networks.transform_graph writes what MXNet's export of chapter 6's TransformNet writes:
    the shipped models' graphs, node for node (their variables' type hints aside)."""
    shipped = {'instance': 'starry_night', 'batch': 'starry_night_batchnorm'}[norm]
    theirs = json.loads((networks.MODELS / f'{shipped}-symbol.json').read_text())
    ours, names = networks.transform_graph(16, norm)
    plain = lambda n: {**n, 'attrs': {k: v for k, v in n.get('attrs', {}).items()
                                      if not k.startswith('__')}}
    assert [plain(n) for n in ours['nodes']] == [plain(n) for n in theirs['nodes']]
    assert ours['node_row_ptr'] == theirs['node_row_ptr'] and ours['heads'] == theirs['heads']
    params = networks.read_params(networks.MODELS / f'{shipped}-0000.params')
    assert [n.split(':', 1)[1] for n in names] == list(params)


WITHOUT_MXNET = '''
import sys
from d2lstyle import frameworks
frameworks.forbid('mxnet', 'gluoncv', why='this test runs the commands without MXNet')
from d2lstyle import cli
sys.exit(cli.main(sys.argv[1:]))
'''


def without_mxnet(*argv):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, '-c', WITHOUT_MXNET, *map(str, argv)], env=env,
                          capture_output=True, text=True, timeout=300)


def test_every_command_runs_where_mxnet_cannot_be_imported(tmp_path):
    model = tmp_path / 'm'
    steps = [
        ['stylize', CONTENT, STYLE, '-o', tmp_path / 's.png', '--size', '48', '--iterations', '2'],
        ['train', STYLE, '-o', model, '--iterations', '1', '--crop', '32', '--batch-size', '1',
         '--width', '4', '--data', PHOTOS],
        ['transform', '--model', model, CONTENT, tmp_path / 't.png'],
        ['transform', '--model', 'starry_night', CONTENT, tmp_path / 'u.png']]
    for argv in steps:  # no --framework: the default is the one that runs here
        done = without_mxnet(*argv)
        assert done.returncode == 0, done.stderr[-800:]
    for name in ('s', 'm'):
        assert json.loads((tmp_path / f'{name}.json').read_text())['framework'] == 'pytorch'
    assert Image.open(tmp_path / 't.png').size == Image.open(CONTENT).size
    refused = without_mxnet('stylize', CONTENT, STYLE, '-o', tmp_path / 'x.png',
                            '--framework', 'mxnet')
    assert refused.returncode == 2 and '\n' not in refused.stderr.strip()
    assert refused.stderr.startswith('d2lstyle: error: mxnet is not to be imported here')
    assert not (tmp_path / 'x.png').exists()


def test_what_pytorch_cannot_do_is_refused_in_one_line(tmp_path, capsys):
    out = tmp_path / 'o.png'
    for argv, words in [
            (['stylize', CONTENT, STYLE, '-o', out, '--backbone', 'model_zoo'], 'gluoncv'),
            (['train', STYLE, '-o', tmp_path / 'm', '--devices', '2', '--batch-size', '2'],
             'trains on one device')]:
        assert cli.main([*map(str, argv), '--framework', 'pytorch']) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith('d2lstyle: error: ') and '\n' not in err and words in err, err
    if not torch.cuda.is_available():
        assert cli.main(['transform', '--model', 'starry_night', str(CONTENT), str(out),
                         '--framework', 'pytorch', '--device', 'gpu']) == 2
        assert 'PyTorch sees no GPU' in capsys.readouterr().err
    assert not out.exists() and not (tmp_path / 'm.checkpoint').exists()


def planned(framework, size, monkeypatch, gpu_gb):
    """The stylize Run of --size ``size`` (nothing optimised) on ``framework``, whose device
    reports ``gpu_gb`` free as a GPU would (None: the CPU)."""
    from d2lstyle import presets, runtime, stylize
    module = runtime.framework(framework)
    monkeypatch.setattr(module, 'gpu_free_gb', lambda device: gpu_gb)
    args = cli.make_parser().parse_args(['stylize', str(CONTENT), str(STYLE), '-o', 'o.png',
                                         '--size', str(size), '--framework', framework])
    cli.check_stylize(args)
    return stylize.Run(args, presets.from_options(args), module)


def test_a_stage_is_cut_into_tiles_only_where_memory_asks(monkeypatch):
    from d2lstyle import memory
    gpu = planned('pytorch', 1200, monkeypatch, 40.0)
    small = planned('pytorch', 1200, monkeypatch, 5.0)
    assert all(len(gpu.grid(shape)) == 1 for shape in gpu.shapes)
    assert [s.optimizer for s in gpu.stages] == ['lbfgs'] * len(gpu.stages)
    assert len(small.grid(small.shapes[-1])) > 1  # 5 GB holds no whole 1200x900 stage
    assert small.stages[-1].optimizer == 'adam'  # in tiles, with L-BFGS as the fallback
    assert [s.size for s in gpu.stages] == [s.size for s in small.stages]
    # the CPU's memory is the system's: the same rule
    monkeypatch.setattr(memory, 'available_gb', lambda gpu_gb=None: gpu_gb or 40.0)
    cpu = planned('pytorch', 1200, monkeypatch, None)
    assert cpu.stages == gpu.stages and all(len(cpu.grid(s)) == 1 for s in cpu.shapes)
    monkeypatch.setattr(memory, 'available_gb', lambda gpu_gb=None: gpu_gb or 5.0)
    assert len(planned('pytorch', 1200, monkeypatch, None).grid(small.shapes[-1])) > 1
    assert memory.tile_megapixels(0.1) == memory.TILE_MEGAPIXELS  # never below this


def test_a_video_is_painted_alike_on_both_frameworks(tmp_path, capsys):
    from d2lstyle import clips
    clip = tmp_path / 'in.mp4'
    frames, _ = clips.pan_zoom(Image.open(CONTENT).convert('RGB'), (160, 112), 6)
    clips.write_video(clip, frames, 12)
    painted = {}
    for framework in frameworks.NAMES:
        out = tmp_path / f'{framework}.mp4'
        assert cli.main(['transform', '--model', 'starry_night', str(clip), str(out),
                         '--framework', framework]) == 0
        assert 'flicker (warping error' in capsys.readouterr().out
        painted[framework] = np.stack(list(clips.read_frames(out))).astype(float)
    assert painted['mxnet'].shape == painted['pytorch'].shape == (6, 112, 160, 3)
    # the same network and blending; the codec's rounding of each frame differs a little
    assert np.abs(painted['mxnet'] - painted['pytorch']).mean() < 1
