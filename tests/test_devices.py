"""The commands on a stand-in GPU (d2lstyle.standin): every network and array on the device.

MXNet sees no GPU here, so ``--device gpu`` runs on cpu(1), cpu(2), ...: Gluon refuses a
parameter used on a context it was not initialised on, as it would on a real GPU.
"""
import mxnet as mx
import pytest
from PIL import Image

from d2lstyle import cli, fast, standin, weights

ROOT = weights.Path(__file__).resolve().parents[1]
CONTENT, STYLE = ROOT / 'img' / 'tubingen.jpg', ROOT / 'img' / 'starry_night.jpg'


@pytest.fixture
def loaded_on(monkeypatch):
    """The contexts the commands load VGG on, while two stand-in GPUs are installed."""
    contexts, load = [], weights.load_vgg

    def spy(name='vgg19', ctx=None):
        contexts.append(ctx)
        return load(name, ctx)
    monkeypatch.setattr(weights, 'load_vgg', spy)  # as stylize calls it
    monkeypatch.setattr(fast, 'load_vgg', spy)  # as train calls it
    with standin.installed(2):
        yield contexts


def test_the_stand_in_is_two_cpu_contexts_and_goes_away():
    with standin.installed(2):
        assert mx.context.num_gpus() == 2 and mx.gpu(1) == mx.cpu(2)
    assert mx.gpu(1).device_type == 'gpu'


def test_stylize_runs_on_the_gpu(loaded_on, tmp_path):
    for optimizer in ('adam', 'lbfgs'):
        out = tmp_path / f'{optimizer}.png'
        assert cli.main(['stylize', str(CONTENT), str(STYLE), '-o', str(out), '--size', '48', '64',
                         '--iterations', '2', '2', '--device', 'gpu', '--optimizer', optimizer,
                         '--original-colors']) == 0
        assert Image.open(out).size == (64, 48)
    assert loaded_on == [mx.cpu(1), mx.cpu(1)]


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


def test_the_benchmarks_put_their_problem_on_one_device():
    import sys
    sys.path.insert(0, str(ROOT / 'benchmarks'))
    import fast_transfer
    import optimizers
    import style_step
    with standin.installed(1):
        for row in ('chapter', 'fast'):
            assert style_step.mxnet_step(row, (48, 32), mx.gpu(0))() > 0
        found = optimizers.histories((48, 32), 3, mx.gpu(0))
        assert [len(found['adam']), len(found['lbfgs'])] == [3, 3]
        assert len(fast_transfer.transform_seconds('starry_night', 1, mx.gpu(0))) == 1
