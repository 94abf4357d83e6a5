"""Stand-in GPUs for the tests: MXNet reports GPUs that are really the contexts cpu(1), cpu(2)...

No GPU build of MXNet runs where the book is tested. Gluon refuses a parameter used on a
context it was not initialised on, so code that leaves a network or an array on the default
context fails with a stand-in as it fails on a GPU (operators between cpu(0) and cpu(1) do not
complain, so this is a net, not a proof). ``python build.py --stand-in-gpus N`` runs the chapters
this way; the tests run the commands inside ``installed``.
"""
import contextlib

import mxnet as mx


def install(count=1):
    """From now on this process sees ``count`` GPUs; ``mx.gpu(i)`` is ``mx.cpu(i + 1)``."""
    def gpu(device_id=0):
        return mx.cpu(device_id + 1)

    mx.context.num_gpus = lambda: count
    mx.gpu = mx.context.gpu = gpu


@contextlib.contextmanager
def installed(count=1):
    """``install(count)`` for the duration of a with block; MXNet's own functions after it."""
    saved = mx.context.num_gpus, mx.gpu, mx.context.gpu
    install(count)
    try:
        yield
    finally:
        mx.context.num_gpus, mx.gpu, mx.context.gpu = saved
