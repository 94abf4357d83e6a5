"""The two frameworks the book's code runs on, and the one check each needs before it imports.

MXNet 1.9.1 runs on Python 3.10 and 3.11 only (it imports ``distutils``, removed in 3.12);
PyTorch runs on any current Python. ``require`` says so in one line instead of a traceback
from deep inside the framework's import.
"""
import importlib.util
import sys

from . import D2lStyleError

MXNET_PYTHONS = ((3, 10), (3, 11))


class FrameworkError(D2lStyleError, ImportError):
    pass


def require(framework):
    """Raise FrameworkError, saying what to do, unless ``framework`` can be imported here."""
    version = sys.version.split()[0]
    if framework == 'mxnet':
        if sys.version_info[:2] not in MXNET_PYTHONS:
            raise FrameworkError(
                f"the book's MXNet code needs Python 3.10 or 3.11, not {version}: MXNet 1.9.1 "
                'imports distutils, which Python 3.12 removed. Use python3.11 (make book does), '
                "or the book's PyTorch tab: from d2lstyle import torch as d2l")
        module, install = 'mxnet', 'pip install -r requirements.txt'
    elif framework == 'pytorch':
        module, install = 'torch', 'pip install -r requirements-pytorch.txt'
    else:
        raise FrameworkError(f'unknown framework {framework!r}: choose mxnet or pytorch')
    if module not in sys.modules and importlib.util.find_spec(module) is None:
        raise FrameworkError(f'{module} is not installed in this Python ({sys.executable}): '
                             f'{install}')


class _Forbidden:
    """A finder that refuses to import the given top-level modules."""

    def __init__(self, modules, why):
        self.modules, self.why = set(modules), why

    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in self.modules:
            raise ImportError(f'{name} is not to be imported here: {self.why}')
        return None


def forbid(*modules, why='this Python runs without it'):
    """From now on, importing any of ``modules`` in this process raises ImportError saying
    ``why``: the builder runs the PyTorch tab so, to show that it needs no MXNet."""
    loaded = sorted({m.split('.')[0] for m in sys.modules} & set(modules))
    if loaded:
        raise FrameworkError(f'{", ".join(loaded)} already imported: cannot forbid it')
    sys.meta_path.insert(0, _Forbidden(modules, why))
