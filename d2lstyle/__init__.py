"""d2lstyle: the helper package of the book *Neural Style Transfer with MXNet and PyTorch*.

Teaching code lives in ``d2lstyle.mxnet`` and ``d2lstyle.torch``, generated from the chapters'
``#@save`` cells, one package per framework; the other modules hold what the chapters use but do not teach (weights, images, profiles,
plots, the command line).
"""
import os
import sys

__version__ = '0.1.0'

# MXNet sizes its OpenMP pool when it is first imported and then uses only half the cores
# (0.91 s against 0.49 s per step at 300x200 on a 2-core machine), so set it before that;
# PyTorch reads it too.
if 'mxnet' not in sys.modules:
    os.environ.setdefault('OMP_NUM_THREADS', str(os.cpu_count() or 1))


class D2lStyleError(Exception):
    """A problem the user can fix; its message says what is wrong and what to do."""
