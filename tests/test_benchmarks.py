"""The benchmarks (benchmarks/*.py) build their problem from the book's code, on one device."""
import sys

import mxnet as mx

from d2lstyle import standin, weights

ROOT = weights.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / 'benchmarks'))
import feed_forward  # noqa: E402
import optimizers  # noqa: E402
import style_step  # noqa: E402


def test_the_benchmarks_put_their_problem_on_one_device():
    with standin.installed(1):
        for row in ('chapter', 'hybridized'):
            assert style_step.mxnet_step(row, (48, 32), mx.gpu(0))() > 0
        found = optimizers.histories((48, 32), 3, mx.gpu(0))
        assert [len(found['adam']), len(found['lbfgs'])] == [3, 3]
        assert len(feed_forward.transform_seconds('starry_night', 1, mx.gpu(0))) == 1
