"""tools/gpu_training.py import: weights trained by tools/torch_train.py become a model that
chapter 6's load_model reads, in float16, with its record (no PyTorch needed)."""
import json
import sys
from pathlib import Path

import mxnet as mx
import numpy as np
from mxnet import nd

from d2lstyle import mxnet as d2l

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / 'tools'))
import gpu_training  # noqa: E402


def fake_run(folder, run, net, steps, bundle):
    """What torch_train.py writes for one run: weights_0.npz (RUN/INDEX keys) and record.json."""
    folder.mkdir()
    np.savez(folder / 'weights_0.npz', **{f'{run}/{i:03d}': p.data().asnumpy()
                                          for i, p in enumerate(net.collect_params().values())})
    history = [[s, s * 0.1, [[5.0, 4.0, 1.0, 10.0 - s / steps]]] for s in range(10, steps + 1, 10)]
    (folder / 'record.json').write_text(json.dumps({
        'command': f'python3 tools/torch_train.py {bundle} --runs {run}', 'runs': [run],
        'settings': {'bundle': str(bundle), 'batch_size': '2', 'width': '4'},
        'photos': ['astronaut.jpg'], 'steps': steps, 'seconds': steps * 0.1,
        'device': 'a test', 'torch': 'none', 'history': history}))


def test_import_exports_the_trained_weights_as_a_float16_model_with_its_record(tmp_path):
    config = {'preset': 'd2l', 'crop': 64, 'style_sizes': {'starry_night': 128},
              'content_weight': 1.0}
    bundle = tmp_path / 'bundle.npz'
    np.savez(bundle, config=np.frombuffer(json.dumps(config).encode(), dtype=np.uint8))
    mx.random.seed(0)
    net = d2l.TransformNet(4)
    net.initialize(mx.init.Xavier())
    X = nd.random.normal(shape=(1, 3, 32, 32))
    expected = net(X).asnumpy()
    fake_run(tmp_path / 'first', 'starry_night:1', net, 20, bundle)
    fake_run(tmp_path / 'second', 'starry_night:0.5@starry_night:1', net, 30, bundle)
    models = tmp_path / 'models'
    models.mkdir()
    gpu_training.main(['import', 'starry_night', '--models', str(models), '--stages',
                       f'{tmp_path / "first"}=starry_night:1',
                       f'{tmp_path / "second"}=starry_night:0.5@starry_night:1'])
    params = nd.load(str(models / 'starry_night-0000.params'))
    assert {v.dtype for v in params.values()} == {np.float16}
    got = d2l.load_model(models / 'starry_night', mx.cpu())(X).asnumpy()
    assert np.abs(got - expected).max() < 0.05  # float16 weights, float32 arithmetic
    record = json.loads((models / 'starry_night.json').read_text())
    assert record['iterations'] == 50 and [s['steps'] for s in record['stages']] == [20, 30]
    assert record['settings']['content_weight'] == 0.5 and record['settings']['crop'] == 64
    steps = [entry['iteration'] for entry in record['losses']]
    assert steps == sorted(steps) and steps[-1] == 50  # the second run continues the first
    assert record['float16_difference']['max'] <= 2
