"""The builder of the book, which build.py runs; one module for each concern of a build.

``config``: book.toml, the book's title, chapters and settings;
``notebooks``: the chapters, their titles, notebooks kept without outputs;
``package``: d2lstyle/mxnet/, generated from the chapters' ``#@save`` cells;
``docs``: the user's guide's generated tables and the README's picture;
``npm``: the front-end packages from npm (reveal.js, minisearch, onnxruntime-web), pinned
and checked;
``search``: the search box's index of every page's sections;
``tryit``: the Try-it page, the shipped networks as ONNX models and onnxruntime-web;
``execute``: running the chapters, each in its kernel, cached;
``render``: a chapter's page from its executed notebook (nbconvert);
``slides``: a chapter's reveal.js deck (nbconvert), and reveal.js itself;
``pdf``: the book as one PDF, printed by Chromium;
``site``: the pages around the chapters, the gallery and the download.
A module imports only modules listed before it, and this one: a book's layout, BuildError and
write_atomic.
"""
from pathlib import Path

from d2lstyle.atomic import atomic_write

ROOT = Path(__file__).resolve().parents[1]  # the book this builder belongs to
ASSETS = ROOT / 'site'  # the site's template, style sheet and script: part of the builder
# A book's folders, relative to its root (the tests build small books elsewhere).
CHAPTERS = 'chapters'
PACKAGE = 'd2lstyle'
IMG = 'img'
BUILD = '_build'
BENCHMARKS = 'benchmarks'  # the stored results of benchmarks/*.py, which chapters show


RESULT_TYPES = ('*.json', '*.jpg', '*.png')  # what a benchmark stores for the chapters to show


def stored_results(root=ROOT):
    """The results the benchmarks stored and the chapters read: figures and pictures."""
    return sorted(p for pattern in RESULT_TYPES for p in (Path(root) / BENCHMARKS).rglob(pattern))


class BuildError(Exception):
    """A build that cannot go on; the message says which file and what went wrong."""


def write_atomic(path, data):
    """Replace ``path`` with ``data`` (str or bytes) in one rename, once fully written."""
    with atomic_write(path) as f:
        f.write(data.encode() if isinstance(data, str) else data)
