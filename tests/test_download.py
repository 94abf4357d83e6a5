"""The site's downloads (d2lstyle-book.zip, d2lstyle-book-pytorch.zip) run as they are,
unpacked anywhere; the PyTorch one on a Python that cannot import MXNet."""
import io
import os
import zipfile

import nbformat
import pytest
from nbformat.v4 import new_code_cell

from builder import PACKAGE, ROOT
from builder.execute import execute
from builder.notebooks import check_clean, find_chapters
from builder.package import GENERATED, saved_modules
from builder.site import BOOK_FOLDER, book_zip, files_beside
from builder.tabs import frameworks_of
from conftest import TEST_PROFILE

pytestmark = pytest.mark.slow


def unpack(where, framework='mxnet'):
    """The real book's download of ``framework``, unpacked into a fresh folder ``where``."""
    assert ROOT not in where.parents
    with zipfile.ZipFile(io.BytesIO(book_zip(framework=framework))) as archive:
        archive.extractall(where)
        names = archive.namelist()
    return where / BOOK_FOLDER, names


@pytest.fixture(scope='module')
def unpacked(tmp_path_factory):
    return unpack(tmp_path_factory.mktemp('download'))


def test_every_file_a_chapter_reads_is_in_the_download(unpacked):
    folder, names = unpacked
    chapters = sorted((folder / 'chapters').glob('*.ipynb'))
    assert [p.name for p in chapters] == [p.name for p in find_chapters()]
    for path in chapters:
        nb = nbformat.read(path, as_version=4)
        assert check_clean(path) == []
        for name in files_beside(nb):
            assert (folder / name).exists(), f'{path.name} reads ../{name}, not in the download'
    generated = [f'{PACKAGE}/{GENERATED}/{name}' for name in saved_modules(find_chapters())]
    for name in ['README.md', 'requirements.txt', 'environment.yml', 'pyproject.toml',
                 'd2lstyle/models/starry_night-symbol.json', 'img/CREDITS.md'] + generated:
        assert f'{BOOK_FOLDER}/{name}' in names, name


def test_chapter_1_runs_in_the_unpacked_download_with_its_own_package(unpacked, tmp_path):
    folder, _ = unpacked
    path = folder / 'chapters' / '01_neural_style.ipynb'
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(new_code_cell('import d2lstyle\nprint(d2lstyle.__file__)'))
    nbformat.write(nb, path)
    executed, ran = execute(path, TEST_PROFILE, tmp_path / 'executed', root=folder)
    assert ran
    where = executed.cells[-1].outputs[0]['text'].strip()
    assert where == str(folder / 'd2lstyle' / '__init__.py')
    errors = [o for c in executed.cells if c.cell_type == 'code' for o in c.outputs
              if o.output_type == 'error']
    assert errors == []


def first_section(nb):
    """The index of a notebook's first section heading: the cells before it import and set up."""
    return next(i for i, c in enumerate(nb.cells)
                if c.cell_type == 'markdown' and c.source.startswith('## '))


def test_the_pytorch_download_runs_its_chapters_where_mxnet_cannot_be_imported(tmp_path,
                                                                                monkeypatch):
    folder, names = unpack(tmp_path / 'unpacked', 'pytorch')
    chapters = sorted((folder / 'chapters').glob('*.ipynb'))
    assert [p.stem for p in chapters] == [p.stem for p in find_chapters()
                                          if 'pytorch' in frameworks_of(nbformat.read(p, 4))]
    assert not [n for n in names if f'{PACKAGE}/{GENERATED}/' in n]  # no MXNet code in it
    assert f'{BOOK_FOLDER}/requirements-pytorch.txt' in names
    # Python imports sitecustomize at start-up: this one makes the kernel's Python one without
    # MXNet or gluoncv (they are installed here, for the MXNet tab).
    site = tmp_path / 'site-without-mxnet'
    site.mkdir()
    (site / 'sitecustomize.py').write_text(
        'from d2lstyle import frameworks\n'
        "frameworks.forbid('mxnet', 'gluoncv', why='the PyTorch download runs without it')\n")
    monkeypatch.setenv('PYTHONPATH', f'{folder}{os.pathsep}{site}')
    for path in chapters:
        nb = nbformat.read(path, as_version=4)
        if path.stem != chapters[0].stem:  # CI's time: chapter 1 whole, the others' imports
            nb.cells = nb.cells[:first_section(nb)]
        nb.cells.append(new_code_cell('import sys, d2lstyle\nprint(d2lstyle.__file__)\n'
                                      "print(sorted(m for m in sys.modules if 'mxnet' in m))\n"
                                      'try:\n    import mxnet\nexcept ImportError as err:\n'
                                      '    print(err)'))
        nbformat.write(nb, path)
        executed, ran = execute(path, TEST_PROFILE, tmp_path / 'executed', root=folder)
        assert ran
        where, loaded, refused = executed.cells[-1].outputs[0]['text'].split('\n')[:3]
        assert where == str(folder / 'd2lstyle' / '__init__.py') and loaded == '[]'
        assert refused == 'mxnet is not to be imported here: the PyTorch download runs without it'
