"""The two frameworks the book's code runs on, the one check each needs before it imports,
and what the commands need of each beyond the chapters' code.

MXNet 1.9.1 runs on Python 3.10 and 3.11 only (it imports ``distutils``, removed in 3.12);
PyTorch runs on any current Python. ``require`` says so in one line instead of a traceback
from deep inside the framework's import.

``runtime.framework(name)`` gives the commands a framework as one module of this package,
``frameworks.mxnet`` or ``frameworks.pytorch``, with the same names in each: ``d2l`` (the
chapters' package of that tab) and the few things the chapters leave to their reader (the
device of ``--device``, a seed, Adam as ``gradient_descent`` takes it, freeing memory, reading
and writing a model). The commands (``stylize``, ``transfer``) are written once against these
names.
"""
import importlib.util
import sys

from .. import D2lStyleError

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
    try:
        found = module in sys.modules or importlib.util.find_spec(module) is not None
    except ImportError as err:  # forbidden here (forbid): its reason
        raise FrameworkError(str(err)) from None
    if not found:
        raise FrameworkError(f'{module} is not installed in this Python ({sys.executable}): '
                             f'{install}')


NAMES = ('mxnet', 'pytorch')  # the book's framework first, as in its tabs (builder.tabs)


def default():
    """The framework the commands use without --framework: MXNet where it runs here, else
    PyTorch; FrameworkError, saying what to install, where neither does."""
    errors = []
    for name in NAMES:
        try:
            require(name)
            return name
        except FrameworkError as err:
            errors.append(str(err))
    raise FrameworkError('neither framework runs here: ' + '; '.join(errors))


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
