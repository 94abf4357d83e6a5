"""Settings for every test, and the small books that the builder's tests build under tmp_path."""
import base64
import os
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

# Before anything imports MXNet: all cores, and the profile the chapters run in.
os.environ.setdefault('OMP_NUM_THREADS', str(os.cpu_count() or 1))
os.environ.setdefault('D2LSTYLE_PROFILE', 'quick')
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # build.py and builder/

# How the tests build the real book: in the test profile (every cell of both tabs, in CI's time),
# on two stand-in GPUs (d2lstyle.standin), so that an array or a network left on the default
# context fails as it would on a GPU, and with a time limit per chapter, so that a chapter that
# hangs fails the build with its name rather than CI with none. test_book.py and test_site.py
# share the executed chapters through the builder's cache.
TEST_PROFILE = 'test'
BOOK_BUILD = ['build.py', '--profile', TEST_PROFILE, '--stand-in-gpus', '2', '--timeout', '1200']

# A 1x1 PNG, for a markdown image that the site must embed.
DOT = base64.b64decode('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIA'
                       'X8jx0gAAAABJRU5ErkJggg==')


def notebook(folder, name, *cells, title=None):
    """A chapter: a '# title' markdown cell, then the cells (str: code)."""
    cells = [new_markdown_cell(f'# {title or name}\n\nIntro.')] + [
        new_code_cell(c) if isinstance(c, str) else c for c in cells]
    path = folder / f'{name}.ipynb'
    nbformat.write(new_notebook(cells=cells), path)
    return path


def make_book(root):
    """A book's layout in ``root``: chapters/, the package d2lstyle/ and img/ with credits.

    Its chapters are plain Python: the builder's tests need neither MXNet nor chapters/.
    """
    for folder in ('chapters', 'd2lstyle', 'img'):
        (root / folder).mkdir()
    (root / 'd2lstyle' / '__init__.py').write_text('')
    (root / 'd2lstyle' / 'profiles.py').write_text('x = 1\n')
    # what a generated package's __init__ calls first; these books need no framework
    (root / 'd2lstyle' / 'frameworks.py').write_text('def require(framework):\n    pass\n')
    (root / 'img' / 'dot.png').write_bytes(DOT)
    (root / 'img' / 'CREDITS.md').write_text('# Credits\n\n* *dot.png*: public domain\n')
    return root


@pytest.fixture
def book(tmp_path):
    return make_book(tmp_path)


def edit(book, name, index, source):
    """Replace the source of cell ``index`` of the book's chapter ``name``."""
    path = book / 'chapters' / f'{name}.ipynb'
    nb = nbformat.read(path, as_version=4)
    nb.cells[index].source = source
    nbformat.write(nb, path)


@pytest.fixture
def loaded_on(monkeypatch):
    """The contexts the commands load VGG on, while two stand-in GPUs are installed."""
    from d2lstyle import standin, weights  # imports MXNet: after the settings above
    contexts, load = [], weights.load_vgg

    def spy(name='vgg19', ctx=None):
        contexts.append(ctx)
        return load(name, ctx)
    monkeypatch.setattr(weights, 'load_vgg', spy)  # as frameworks.mxnet calls it
    with standin.installed(2):
        yield contexts
