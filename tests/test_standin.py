"""The stand-in GPUs (d2lstyle.standin): MXNet is told it has N GPUs, and gpu(i) is cpu(i + 1),
so that Gluon refuses a network or an array left on the default context, as on a real GPU."""
import mxnet as mx

from d2lstyle import standin


def test_the_stand_in_is_two_cpu_contexts_and_goes_away():
    with standin.installed(2):
        assert mx.context.num_gpus() == 2 and mx.gpu(1) == mx.cpu(2)
    assert mx.gpu(1).device_type == 'gpu'
