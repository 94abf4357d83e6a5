"""The site's download (d2lstyle-book.zip) runs as it is, unpacked anywhere."""
import io
import zipfile

import nbformat
import pytest
from nbformat.v4 import new_code_cell

from builder import PACKAGE, ROOT
from builder.execute import execute
from builder.notebooks import check_clean, find_chapters
from builder.package import GENERATED, saved_modules
from builder.site import BOOK_FOLDER, book_zip, files_beside

pytestmark = pytest.mark.slow


@pytest.fixture(scope='module')
def unpacked(tmp_path_factory):
    """The real book's download, unpacked into a fresh folder outside the repository."""
    where = tmp_path_factory.mktemp('download')
    assert ROOT not in where.parents
    with zipfile.ZipFile(io.BytesIO(book_zip())) as archive:
        archive.extractall(where)
        names = archive.namelist()
    return where / BOOK_FOLDER, names


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
    executed, ran = execute(path, 'quick', tmp_path / 'executed', root=folder)
    assert ran
    where = executed.cells[-1].outputs[0]['text'].strip()
    assert where == str(folder / 'd2lstyle' / '__init__.py')
    errors = [o for c in executed.cells if c.cell_type == 'code' for o in c.outputs
              if o.output_type == 'error']
    assert errors == []
