"""builder/notebooks.py: the chapters, their titles, notebooks without outputs."""
import json

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_output

from builder import CHAPTERS, ROOT, BuildError
from builder.notebooks import SOLUTION, check_clean, find_chapters, for_students, pages_of, strip
from conftest import notebook


def test_notebooks_in_git_carry_no_outputs():
    paths = sorted((ROOT / CHAPTERS).glob('*.ipynb'))
    if not paths:
        pytest.skip('chapters/ has no notebooks yet')
    problems = [p for path in paths for p in check_clean(path)]
    assert problems == [], 'run python build.py --strip'


def test_check_clean_finds_outputs_and_strip_removes_them(book):
    cell = new_code_cell('print(1)', execution_count=3,
                         outputs=[new_output('stream', name='stdout', text='1\n')])
    cell.metadata['execution'] = {'iopub.status.busy': '2024-01-01T00:00:00Z'}
    path = notebook(book / 'chapters', '01_a', 'x = 1', cell)
    assert check_clean(path) == [f'{path}: code cell 2 has outputs',
                                 f'{path}: code cell 2 has an execution count']
    assert strip(path) is True
    assert check_clean(path) == []
    nb = nbformat.read(path, as_version=4)
    assert [c.source for c in nb.cells[1:]] == ['x = 1', 'print(1)']
    assert 'execution' not in nb.cells[2].metadata
    assert strip(path) is False  # already clean: left alone


def test_chapters_are_found_in_order_and_chosen_by_name_or_number(book):
    folder = book / 'chapters'
    for name in ('02_b', '01_a', '10_j'):
        notebook(folder, name)
    (folder / 'notes.ipynb').write_text('{}')  # not a chapter: no number
    assert [p.stem for p in find_chapters(folder=folder)] == ['01_a', '02_b', '10_j']
    assert [p.stem for p in find_chapters(['2', '02_b.ipynb', '10'], folder)] == ['02_b', '10_j']
    assert [p.stem for p in find_chapters([folder / '01_a.ipynb'], folder)] == ['01_a']
    with pytest.raises(BuildError, match="no chapter '04' in .*; the chapters are 01_a, 02_b, 10_j"):
        find_chapters(['04'], folder)


def test_a_chapters_title_is_its_first_heading_else_its_name(book):
    folder = book / 'chapters'
    titled = notebook(folder, '01_a', new_markdown_cell('## Not this\n\n# Nor this'),
                      title='Gram <matrices>')
    nb = nbformat.read(titled, as_version=4)
    nb.cells.pop(0)
    nbformat.write(nb, folder / '02_untitled.ipynb')
    assert pages_of([titled, folder / '02_untitled.ipynb']) == [
        ('01_a', 'Gram <matrices>'), ('02_untitled', '02_untitled')]


def test_two_chapters_carry_solutions_that_the_students_build_leaves_out():
    carrying = [p for p in find_chapters() if any(
        SOLUTION in c.metadata.get('tags', []) for c in nbformat.read(p, 4).cells)]
    assert len(carrying) >= 2
    for path in carrying:
        nb = for_students(nbformat.read(path, 4))
        assert not any('Solution' in c.source for c in nb.cells), path  # none left untagged
        assert any('## Exercises' in c.source for c in nb.cells), path


def test_no_two_sections_of_a_chapter_share_a_title_and_so_an_anchor():
    for path in find_chapters():
        titles = [line.lstrip('#').strip() for cell in nbformat.read(path, 4).cells
                  if cell.cell_type == 'markdown' for line in cell.source.splitlines()
                  if line.startswith('#')]
        repeated = sorted({t for t in titles if titles.count(t) > 1})
        assert repeated == [], (path.name, repeated)


def test_every_cell_of_a_chapter_has_an_id_of_its_own():
    """nbformat 4.5 asks for cell ids; a cell pasted in without one warns now and fails later."""
    for path in sorted((ROOT / CHAPTERS).glob('*.ipynb')):
        ids = [cell.get('id') for cell in json.loads(path.read_text())['cells']]  # as stored:
        # nbformat.read would make up the missing ids
        assert all(ids) and len(set(ids)) == len(ids), path.name
