"""build.py, the command line: what each option runs, what it prints, how it fails.

The tests build small books of plain-Python notebooks under tmp_path
(``build.main(argv, root=...)``); the builder's modules have their own tests.
"""
import re

import pytest
from nbformat.v4 import new_code_cell

import build
from builder.notebooks import check_clean
from builder.package import saved_modules
from conftest import edit, notebook

CHAPTERS = [('01_a', 'First steps'), ('02_b', 'Second'), ('03_c', 'Third')]


@pytest.fixture
def built(book, capsys):
    """A book of three chapters, built once: (site folder, the lines printed)."""
    for i, (name, title) in enumerate(CHAPTERS):
        cells = [f'print({i} * 1000 + 42)']
        if i == 0:
            cells.insert(0, '#@save\ndef answer():\n    return 42')
        notebook(book / 'chapters', name, *cells, title=title)
    build.main(['--out', str(book / 'site')], root=book)
    return book / 'site', capsys.readouterr().out.splitlines()


def summary_of(lines):
    """(name, what) of the summary's rows, checking that each ends with a time."""
    rows = [re.fullmatch(r'(\S+) +(executed|cached|rendered|) +\d+\.\d s', line)
            for line in lines]
    return [row.groups() for row in rows if row]


def test_build_prints_the_package_each_chapter_then_the_index_path(built, book, capsys):
    out, lines = built
    assert lines[:3] == ['wrote d2lstyle/common/__init__.py', 'wrote d2lstyle/mxnet/a.py',
                         'wrote d2lstyle/mxnet/__init__.py']
    assert [line.split(':')[0] for line in lines[3:6]] == ['01_a', '02_b', '03_c']
    assert all(re.search(r': executed in \d+ s \(quick\)$', line) for line in lines[3:6])
    assert lines[-1] == str((out / 'index.html').resolve())
    assert summary_of(lines) == [('01_a', 'executed'), ('02_b', 'executed'),
                                 ('03_c', 'executed'), ('site', 'rendered'), ('total', '')]
    assert 'def answer():' in (book / 'd2lstyle' / 'mxnet' / 'a.py').read_text()
    build.main(['--out', str(out)], root=book)
    again = capsys.readouterr().out.splitlines()
    assert again[:3] == ['01_a: cached (quick)', '02_b: cached (quick)', '03_c: cached (quick)']
    assert summary_of(again)[:3] == [('01_a', 'cached'), ('02_b', 'cached'), ('03_c', 'cached')]
    assert again[-1] == lines[-1]


def test_a_chosen_chapter_is_rebuilt_and_the_contents_keep_them_all(built, book, capsys):
    out, _ = built
    edit(book, '02_b', 1, 'print("changed")')
    build.main(['02', '--out', str(out)], root=book)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(':')[0] for line in lines if ':' in line] == ['02_b', 'to publish']
    assert summary_of(lines) == [('02_b', 'executed'), ('site', 'rendered'), ('total', '')]
    assert lines[-2] == (f'to publish: copy the folder {out} as it is to a static web host; '
                         'every link in it is relative, so it works under any address and in '
                         'any subfolder')
    assert 'changed' in (out / '02_b.html').read_text()
    assert all(f'href="{name}.html"' in (out / 'index.html').read_text() for name, _ in CHAPTERS)


def test_a_chapter_dropping_its_save_cells_drops_its_module(built, book, capsys):
    edit(book, '01_a', 1, 'def answer():\n    return 42')
    build.main(['--save-only'], root=book)
    assert capsys.readouterr().out.splitlines() == [
        'wrote d2lstyle/mxnet/__init__.py', 'removed d2lstyle/mxnet/a.py']
    assert [p.name for p in (book / 'd2lstyle' / 'mxnet').glob('*.py')] == ['__init__.py']


def test_build_exits_non_zero_on_a_failing_cell(book, capsys):
    notebook(book / 'chapters', '01_good', 'print("fine")')
    notebook(book / 'chapters', '02_bad', '1 / 0')
    with pytest.raises(SystemExit) as exit_:
        build.main(['--out', str(book / 'site')], root=book)
    message = str(exit_.value.code)  # a str: Python prints it and exits with status 1
    assert message.startswith('build.py: ') and '02_bad.ipynb' in message
    assert 'code cell 1 (cell 2 of 2)' in message
    assert 'ZeroDivisionError: division by zero' in message
    assert '01_good: executed in' in capsys.readouterr().out
    assert [p.name for p in (book / '_build' / 'executed' / 'quick').iterdir()] == ['01_good.ipynb']
    assert not (book / 'site' / 'index.html').exists()


def test_strip_option_cleans_the_chapters(book, capsys):
    cell = new_code_cell('1', execution_count=1)
    path = notebook(book / 'chapters', '01_a', '#@save\nA = 1', cell)
    build.main(['--strip'], root=book)
    assert check_clean(path) == []
    assert 'stripped 01_a' in capsys.readouterr().out
    assert not (book / '_build').exists()  # strip executes nothing


def test_save_only_writes_the_package_and_runs_nothing(book):
    path = notebook(book / 'chapters', '01_a', '#@save\nA = 1', 'raise SystemError')
    build.main(['--save-only'], root=book)
    package = book / 'd2lstyle' / 'mxnet'
    assert {p.name: p.read_text() for p in package.iterdir()} == saved_modules([path])
    assert not (book / '_build').exists()


def test_a_bad_profile_in_the_environment_is_refused(monkeypatch, capsys):
    monkeypatch.setenv('D2LSTYLE_PROFILE', 'fast')
    with pytest.raises(SystemExit) as exit_:
        build.parse([])
    assert exit_.value.code == 2 and "'fast'" in capsys.readouterr().err
    assert build.parse(['--profile', 'full']).profile == 'full'


def test_jobs_must_be_positive(capsys):
    with pytest.raises(SystemExit):
        build.parse(['--jobs', '0'])
    assert '--jobs 0' in capsys.readouterr().err
