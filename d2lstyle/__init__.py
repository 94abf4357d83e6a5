"""d2lstyle: the helper package of the book *Neural Style Transfer with MXNet/Gluon*.

Teaching code lives in ``d2lstyle.mxnet``, generated from the chapters' ``#@save`` cells;
the other modules hold what the chapters use but do not teach (weights, images, profiles,
plots, the command line).
"""
import os
import sys

__version__ = '0.1.0'

if not (3, 10) <= sys.version_info[:2] <= (3, 11):
    raise ImportError(
        f'd2lstyle needs Python 3.10 or 3.11, not {sys.version.split()[0]}: MXNet 1.9.1 '
        'imports distutils, which Python 3.12 removed. Create the environment with '
        'python3.11 (make book does this) or use environment.yml.')

# MXNet sizes its OpenMP pool when it is first imported and then uses only half the cores
# (0.91 s against 0.49 s per step at 300x200 on a 2-core machine), so set it before that.
if 'mxnet' not in sys.modules:
    os.environ.setdefault('OMP_NUM_THREADS', str(os.cpu_count() or 1))


class D2lStyleError(Exception):
    """A problem the user can fix; its message says what is wrong and what to do."""
