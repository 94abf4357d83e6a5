"""build.py: #@save extraction, cached execution, clear failures, atomic writes, the site.

Every test but the two on the real chapters builds a tiny book of plain-Python notebooks
under tmp_path (``build.main(argv, root=...)``), so none needs MXNet or touches chapters/.
"""
import ast
import base64
import io
import json
import os
import re
import sys
import time
import zipfile

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

import build

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
    """A book's layout in ``root``: chapters/, the package d2lstyle/ and img/ with credits."""
    for folder in ('chapters', 'd2lstyle', 'img'):
        (root / folder).mkdir()
    (root / 'd2lstyle' / '__init__.py').write_text('')
    (root / 'd2lstyle' / 'profiles.py').write_text('x = 1\n')
    (root / 'img' / 'dot.png').write_bytes(DOT)
    (root / 'img' / 'CREDITS.md').write_text('# Credits\n\n* *dot.png*: public domain\n')
    return root


@pytest.fixture
def book(tmp_path):
    return make_book(tmp_path)


def run(book, path, profile='quick', timeout=60):
    return build.execute(path, profile, book / '_build' / 'executed', timeout, root=book)


# ---- #@save -------------------------------------------------------------------------------

def test_saved_code_takes_only_marked_cells_in_order(book):
    a = notebook(book / 'chapters', '01_a', '#@save\ndef f():\n    return 1\n', 'f()',
                 'x = 1  #@save', new_markdown_cell('#@save\nnot code'))
    b = notebook(book / 'chapters', '02_b', 'y = 2', '#@save\nimport os', '#@save  \n\nZ = 3\n\n')
    assert build.saved_code([a, b]) == (
        build.SAVED_HEADER + 'import os\n\n\n'
        '# Defined in chapters/01_a.ipynb, section "01_a"\ndef f():\n    return 1\n\n\n'
        '# Defined in chapters/02_b.ipynb, section "02_b"\nZ = 3\n')
    header = build.SAVED_HEADER
    assert 'build.py' in header and '#@save' in header and 'do not edit' in header
    assert 'python build.py --save-only' in header


def test_a_cell_with_several_marks_gives_each_definition_its_back_link(book):
    path = notebook(book / 'chapters', '01_a',
                    new_markdown_cell('## Losses\n\nText.'),
                    '#@save\nimport math\n\n\n#@save\ndef f():\n    return math.pi\n\n\n'
                    '# a reason\n#@save\nclass C:\n    pass\n\nA = 1\nB = 2',
                    new_markdown_cell('### Details'),
                    '#@save\nfrom pathlib import Path\nimport d2lstyle\ndef g():\n    return Path')
    code = build.saved_code([path])
    assert '#@save' not in code.replace(build.SAVED_HEADER, '')
    link = '# Defined in chapters/01_a.ipynb, section "{}"\n'
    assert link.format('Losses') + 'def f():' in code
    assert link.format('Losses') + '# a reason\nclass C:' in code
    assert link.format('Losses') + 'A = 1\nB = 2\n' in code  # a run of statements: one link
    assert link.format('Details') + 'def g():' in code
    head = code[:code.index('\n\n\n')]
    assert head.endswith('\nimport math\nfrom pathlib import Path\nimport d2lstyle')
    compile(code, 'generated', 'exec')


def test_the_package_has_no_stray_marker_and_a_back_link_for_every_definition():
    code = (build.PACKAGE / 'mxnet.py').read_text()
    assert '#@save' not in code.replace(build.SAVED_HEADER, '')
    lines, end = code.splitlines(), 0
    for node in ast.parse(code).body:
        gap = lines[end:node.lineno - 1]  # from the previous statement to this one
        end = node.end_lineno
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            links = [l for l in gap if l.startswith('# Defined in')]
            assert len(links) == 1, f'{node.name} has {len(links)} back-links'
            assert re.fullmatch(r'# Defined in chapters/\d\d_\w+\.ipynb, section ".+"', links[0])


def test_save_code_writes_only_when_the_text_changes(book):
    path = notebook(book / 'chapters', '01_a', '#@save\nA = 1')
    target = book / 'd2lstyle' / 'mxnet.py'
    assert build.save_code([path], target) is True
    assert target.read_text() == build.saved_code([path])
    os.utime(target, (0, 0))
    assert build.save_code([path], target) is False
    assert target.stat().st_mtime == 0  # not rewritten
    with pytest.raises(build.BuildError, match='no chapters'):
        build.save_code([], target)  # would wipe the package's code
    assert 'A = 1' in target.read_text()


def test_package_matches_the_chapters():
    """A test fails when the package and the chapters disagree."""
    chapters = build.find_chapters()
    if not chapters:
        pytest.skip('chapters/ has no notebooks yet')
    assert (build.PACKAGE / 'mxnet.py').read_text() == build.saved_code(chapters), \
        'd2lstyle/mxnet.py differs from the #@save cells: run python build.py --save-only'


# ---- clean notebooks ----------------------------------------------------------------------

def test_notebooks_in_git_carry_no_outputs():
    paths = sorted(build.CHAPTERS.glob('*.ipynb'))
    if not paths:
        pytest.skip('chapters/ has no notebooks yet')
    problems = [p for path in paths for p in build.check_clean(path)]
    assert problems == [], 'run python build.py --strip'


def test_check_clean_finds_outputs_and_strip_removes_them(book):
    cell = new_code_cell('print(1)', execution_count=3,
                         outputs=[new_output('stream', name='stdout', text='1\n')])
    cell.metadata['execution'] = {'iopub.status.busy': '2024-01-01T00:00:00Z'}
    path = notebook(book / 'chapters', '01_a', 'x = 1', cell)
    assert build.check_clean(path) == [f'{path}: code cell 2 has outputs',
                                       f'{path}: code cell 2 has an execution count']
    assert build.strip(path) is True
    assert build.check_clean(path) == []
    nb = nbformat.read(path, as_version=4)
    assert [c.source for c in nb.cells[1:]] == ['x = 1', 'print(1)']
    assert 'execution' not in nb.cells[2].metadata
    assert build.strip(path) is False  # already clean: left alone


def test_strip_option_cleans_the_chapters(book, capsys):
    cell = new_code_cell('1', execution_count=1)
    path = notebook(book / 'chapters', '01_a', '#@save\nA = 1', cell)
    build.main(['--strip'], root=book)
    assert build.check_clean(path) == []
    assert 'stripped 01_a' in capsys.readouterr().out
    assert not (book / '_build').exists()  # strip executes nothing


# ---- execution and its cache --------------------------------------------------------------

def test_execution_is_cached_until_cells_package_images_or_profile_change(book):
    log = book / 'runs.txt'
    path = notebook(book / 'chapters', '01_a', f"import os\nopen({str(log)!r}, 'a')"
                    ".write(os.environ['D2LSTYLE_PROFILE'] + ' ')")
    ran = lambda profile='quick': run(book, path, profile)[1]
    assert ran() is True and ran() is False
    stored = nbformat.read(book / '_build' / 'executed' / 'quick' / '01_a.ipynb', as_version=4)
    assert stored.metadata['d2lstyle']['cache_key'] == build.cache_key(
        nbformat.read(path, as_version=4), 'quick', book)
    (book / 'd2lstyle' / 'profiles.py').write_text('x = 2\n')
    assert ran() is True and ran() is False
    (book / 'img' / 'dot.png').write_bytes(DOT + b'\0')
    assert ran() is True
    (book / 'd2lstyle' / 'notes.txt').write_text('not code')  # only *.py count
    assert ran() is False
    (book / 'benchmarks').mkdir()
    (book / 'benchmarks' / 'step.json').write_text('{}')  # results a chapter shows
    assert ran() is True
    assert ran('full') is True and ran('full') is False and ran('quick') is False
    nb = nbformat.read(path, as_version=4)
    nb.cells[1].source += '\n2'
    nbformat.write(nb, path)
    assert ran() is True
    assert log.read_text().split() == ['quick', 'quick', 'quick', 'quick', 'full', 'quick']


def test_the_key_ignores_outputs_but_not_cell_types(book):
    nb = nbformat.read(notebook(book / 'chapters', '01_a', 'print(1)'), as_version=4)
    key = build.cache_key(nb, 'quick', book)
    nb.cells[1].outputs = [new_output('stream', name='stdout', text='1\n')]
    nb.cells[1].execution_count = 1
    assert build.cache_key(nb, 'quick', book) == key
    nb.cells[1] = new_markdown_cell('print(1)')
    assert build.cache_key(nb, 'quick', book) != key
    assert build.cache_key(nb, 'full', book) != build.cache_key(nb, 'quick', book)


def test_the_kernel_is_this_python_with_the_profile_all_cores_in_chapters(book, monkeypatch):
    monkeypatch.delenv('OMP_NUM_THREADS', raising=False)
    out = book / 'kernel.json'
    path = notebook(book / 'chapters', '01_a', (
        f'import json, os, sys, d2lstyle\nopen({str(out)!r}, "w").write(json.dumps([sys.prefix, '
        'os.getcwd(), os.environ["D2LSTYLE_PROFILE"], os.environ["OMP_NUM_THREADS"], '
        'd2lstyle.__file__]))'))
    run(book, path, 'full')
    prefix, cwd, profile, threads, package = json.loads(out.read_text())
    assert os.path.samefile(package, book / 'd2lstyle' / '__init__.py')  # the hashed one
    assert prefix == sys.prefix  # the venv that runs build.py, whatever the kernelspec says
    assert os.path.samefile(cwd, book / 'chapters')  # so ../img/... resolves
    assert (profile, threads) == ('full', str(os.cpu_count()))


def test_a_failing_cell_names_notebook_and_cell_and_stores_nothing(book):
    path = notebook(book / 'chapters', '01_bad', 'x = 1', new_markdown_cell('text'),
                    'raise ValueError("no\\npaint")')
    stale = book / '_build' / 'executed' / 'quick' / '01_bad.ipynb'
    stale.parent.mkdir(parents=True)
    stale.write_text('an older result')
    with pytest.raises(build.BuildError) as err:
        run(book, path)
    message = str(err.value)
    assert '01_bad.ipynb failed in code cell 2 (cell 4 of 4): ValueError: no paint' in message
    assert '\n' not in message  # one paragraph
    assert list(stale.parent.iterdir()) == []  # no result, nor a stale or temporary one


def test_the_time_limit_is_for_the_whole_notebook_and_names_the_running_cell(book):
    # no cell takes a second, all of them take ten: only a limit on the notebook stops it
    path = notebook(book / 'chapters', '01_slow', 'x = 1',
                    *['import time\ntime.sleep(0.5)'] * 20)
    start = time.monotonic()
    with pytest.raises(build.BuildError) as err:
        run(book, path, timeout=4)
    assert time.monotonic() - start < 9  # stopped, not run to the end
    message = str(err.value)
    match = re.search(r'01_slow.ipynb failed in code cell (\d+) \(cell (\d+) of 22\): timed out: '
                      r'the notebook was still running after 4 s \(raise --timeout\)', message)
    assert match, message
    assert 2 <= int(match.group(1)) < 21 and int(match.group(2)) == int(match.group(1)) + 1
    assert not (book / '_build' / 'executed' / 'quick' / '01_slow.ipynb').exists()


def test_build_exits_non_zero_on_a_failing_cell(book, capsys):
    notebook(book / 'chapters', '01_good', 'print("fine")')
    notebook(book / 'chapters', '02_bad', '1 / 0')
    with pytest.raises(SystemExit) as exit_:
        build.main(['--out', str(book / 'site')], root=book)
    message = str(exit_.value.code)  # a str: Python prints it and exits with status 1
    assert '02_bad.ipynb' in message and 'code cell 1 (cell 2 of 2)' in message
    assert 'ZeroDivisionError: division by zero' in message
    assert '01_good: executed in' in capsys.readouterr().out
    assert [p.name for p in (book / '_build' / 'executed' / 'quick').iterdir()] == ['01_good.ipynb']
    assert not (book / 'site' / 'index.html').exists()


# ---- atomic writes ------------------------------------------------------------------------

def test_write_atomic_replaces_and_leaves_no_temporary_files(tmp_path):
    path = tmp_path / 'sub' / 'page.html'
    build.write_atomic(path, 'old')
    build.write_atomic(path, b'new \xe2\x9c\x93')
    assert path.read_text() == 'new \u2713'
    assert [p.name for p in path.parent.iterdir()] == ['page.html']
    assert path.stat().st_mode & 0o444 == 0o444 & ~build.umask()  # readable as a web page


def test_write_atomic_keeps_the_old_file_when_writing_fails_midway(tmp_path, monkeypatch):
    path = tmp_path / 'page.html'
    build.write_atomic(path, 'old')
    real_fdopen = os.fdopen

    class DiskFull:
        def __init__(self, f):
            self.f = f
        def __enter__(self):
            return self
        def __exit__(self, *exc):
            self.f.close()
        def write(self, data):
            self.f.write(data[:2])
            raise OSError(28, 'No space left on device')

    monkeypatch.setattr(build.os, 'fdopen', lambda fd, mode: DiskFull(real_fdopen(fd, mode)))
    with pytest.raises(OSError, match='No space'):
        build.write_atomic(path, 'new content')
    assert path.read_text() == 'old'
    assert [p.name for p in tmp_path.iterdir()] == ['page.html']


def test_write_atomic_keeps_the_old_file_when_interrupted_before_the_rename(tmp_path, monkeypatch):
    path = tmp_path / 'page.html'
    build.write_atomic(path, 'old')

    def interrupted(src, dst):
        assert open(src).read() == 'new'  # written in full, not yet in place
        raise KeyboardInterrupt

    monkeypatch.setattr(build.os, 'replace', interrupted)
    with pytest.raises(KeyboardInterrupt):
        build.write_atomic(path, 'new')
    assert path.read_text() == 'old'
    assert [p.name for p in tmp_path.iterdir()] == ['page.html']


# ---- the command line and the site --------------------------------------------------------

CHAPTERS = [('01_a', 'First steps'), ('02_b', 'Gram <matrices>'), ('03_c', 'Third')]


@pytest.fixture
def site(book, capsys):
    for i, (name, title) in enumerate(CHAPTERS):
        cells = [f'print({i} * 1000 + 42)', new_markdown_cell('![dot](../img/dot.png)')]
        if i == 0:
            cells.insert(0, '#@save\ndef answer():\n    return 42')
        notebook(book / 'chapters', name, *cells, title=title)
    build.main(['--out', str(book / 'site')], root=book)
    return book / 'site', capsys.readouterr().out.splitlines()


def escaped(title):
    return title.replace('<', '&lt;').replace('>', '&gt;')


def nav_links(page):
    bars = re.findall(r'<nav class="d2l-nav">(.*?)</nav>', page, re.S)
    assert len(bars) == 2 and bars[0] == bars[1]  # above and below the chapter
    return re.findall(r'href="([^"]+)"', bars[0])


def test_build_prints_each_chapter_then_the_index_path(site, book, capsys):
    out, lines = site
    assert lines[0] == 'wrote d2lstyle/mxnet.py'
    assert [line.split(':')[0] for line in lines[1:4]] == ['01_a', '02_b', '03_c']
    assert all(re.search(r': executed in \d+ s \(quick\)$', line) for line in lines[1:4])
    assert lines[-1] == str((out / 'index.html').resolve())
    assert summary_of(lines) == [('01_a', 'executed'), ('02_b', 'executed'),
                                 ('03_c', 'executed'), ('site', 'rendered'), ('total', '')]
    assert 'def answer():' in (book / 'd2lstyle' / 'mxnet.py').read_text()
    build.main(['--out', str(out)], root=book)
    again = capsys.readouterr().out.splitlines()
    assert again[:3] == ['01_a: cached (quick)', '02_b: cached (quick)', '03_c: cached (quick)']
    assert summary_of(again)[:3] == [('01_a', 'cached'), ('02_b', 'cached'), ('03_c', 'cached')]
    assert again[-1] == lines[-1]


def summary_of(lines):
    """(name, what) of the summary's rows, checking that each ends with a time."""
    rows = [re.fullmatch(r'(\S+) +(executed|cached|rendered|) +\d+\.\d s', line)
            for line in lines]
    return [row.groups() for row in rows if row]


def test_the_summary_times_each_chapter_the_site_and_the_total():
    runs = [build.Run(build.Path('chapters/01_long_name.ipynb'), None, True, 61.25),
            build.Run(build.Path('chapters/02_b.ipynb'), None, False, 0.04)]
    assert build.summary(runs, 2.5, 64.0).splitlines() == [
        '01_long_name  executed     61.2 s',
        '02_b          cached        0.0 s',
        'site          rendered      2.5 s',
        'total                      64.0 s']


def test_index_lists_the_chapters_in_order_with_their_titles(site):
    out, _ = site
    index = (out / 'index.html').read_text()
    assert build.TITLE in index
    positions = [index.index(f'<a href="{name}.html">{escaped(title)}</a>')
                 for name, title in CHAPTERS]
    assert positions == sorted(positions)
    assert 'href="credits.html"' in index
    assert 'public domain' in (out / 'credits.html').read_text()


def test_chapter_pages_link_to_existing_neighbours_and_a_clean_notebook(site):
    out, _ = site
    for i, (name, title) in enumerate(CHAPTERS):
        page = (out / f'{name}.html').read_text()
        links = nav_links(page)
        assert all((out / link).exists() for link in links), links
        previous = [f'{CHAPTERS[i - 1][0]}.html'] if i else []
        following = [f'{CHAPTERS[i + 1][0]}.html'] if i + 1 < len(CHAPTERS) else []
        assert links == previous + ['index.html', f'{name}.ipynb', 'credits.html'] + following
        assert 'Download notebook' in page
        assert str(i * 1000 + 42) in page  # the executed output is on the page
        assert f'src="data:image/png;base64,{base64.b64encode(DOT).decode()}"' in page
        assert f'<title>{escaped(title)}</title>' in page
        assert not re.search(r'<script src="https?://', page)  # nothing from a CDN
        copy = nbformat.read(out / f'{name}.ipynb', as_version=4)
        assert build.check_clean(out / f'{name}.ipynb') == [] and len(copy.cells) >= 3
    assert (out / 'mathjax' / 'MathJax.js').exists()  # formulas render offline
    assert not [p for p in out.iterdir() if p.name.startswith('.')]  # no temporary leftovers


def test_a_chosen_chapter_is_rebuilt_and_the_contents_keep_them_all(site, book, capsys):
    out, _ = site
    nb = nbformat.read(book / 'chapters' / '02_b.ipynb', as_version=4)
    nb.cells[1].source = 'print("changed")'
    nbformat.write(nb, book / 'chapters' / '02_b.ipynb')
    build.main(['02', '--out', str(out)], root=book)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(':')[0] for line in lines if ':' in line] == ['02_b']
    assert summary_of(lines) == [('02_b', 'executed'), ('site', 'rendered'), ('total', '')]
    assert 'changed' in (out / '02_b.html').read_text()
    assert all(f'href="{name}.html"' in (out / 'index.html').read_text() for name, _ in CHAPTERS)
    with pytest.raises(build.BuildError, match="no chapter '04'"):
        build.find_chapters(['04'], book / 'chapters')
    assert [p.stem for p in build.find_chapters(['2', '02_b.ipynb'], book / 'chapters')] == ['02_b']


def test_a_missing_markdown_image_is_reported(book, capsys):
    path = notebook(book / 'chapters', '01_a', new_markdown_cell('![x](../img/none.png)'))
    page = build.chapter_html(nbformat.read(path, as_version=4), path, 'A')
    assert 'src="../img/none.png"' in page
    assert 'warning: 01_a.ipynb: image ../img/none.png not found' in capsys.readouterr().err


def test_save_only_writes_the_package_and_runs_nothing(book):
    path = notebook(book / 'chapters', '01_a', '#@save\nA = 1', 'raise SystemError')
    build.main(['--save-only'], root=book)
    assert (book / 'd2lstyle' / 'mxnet.py').read_text() == build.saved_code([path])
    assert not (book / '_build').exists()


def test_a_bad_profile_in_the_environment_is_refused(monkeypatch, capsys):
    monkeypatch.setenv('D2LSTYLE_PROFILE', 'fast')
    with pytest.raises(SystemExit) as exit_:
        build.parse([])
    assert exit_.value.code == 2 and "'fast'" in capsys.readouterr().err
    assert build.parse(['--profile', 'full']).profile == 'full'


# ---- what a change re-executes ------------------------------------------------------------

@pytest.fixture
def chain(book):
    """Three chapters with #@save cells, each logging its runs; run() returns who ran."""
    log = book / 'runs.txt'
    for i, name in enumerate(('01_a', '02_b', '03_c'), 1):
        notebook(book / 'chapters', name, f'#@save\ndef f{i}():\n    return {i}',
                 f'open({str(log)!r}, "a").write("{name} ")')

    def ran():
        log.write_text('')
        build.main(['--out', str(book / 'site')], root=book)
        return log.read_text().split()
    assert ran() == ['01_a', '02_b', '03_c']
    return ran


def edit(book, name, index, source):
    path = book / 'chapters' / f'{name}.ipynb'
    nb = nbformat.read(path, as_version=4)
    nb.cells[index].source = source
    nbformat.write(nb, path)


def test_nothing_changed_nothing_runs(chain, book):
    assert chain() == []
    (book / 'd2lstyle' / 'mxnet.py').write_text('# hand-edited')  # regenerated, not a cause
    assert chain() == []
    assert 'def f3():' in (book / 'd2lstyle' / 'mxnet.py').read_text()


def test_a_save_cell_re_runs_its_chapter_and_the_later_ones(chain, book):
    edit(book, '02_b', 1, '#@save\ndef f2():\n    return 20')
    assert chain() == ['02_b', '03_c']
    edit(book, '01_a', 1, '#@save\ndef f1():\n    return 10')
    assert chain() == ['01_a', '02_b', '03_c']
    edit(book, '03_c', 1, '#@save\ndef f3():\n    return 30')  # nobody imports the last one
    assert chain() == ['03_c']


def test_a_plain_cell_re_runs_only_its_chapter(chain, book):
    edit(book, '01_a', 2, edit_source := nbformat.read(
        book / 'chapters' / '01_a.ipynb', as_version=4).cells[2].source + '\nx = 1')
    assert 'x = 1' in edit_source
    assert chain() == ['01_a']


def test_images_and_the_package_modules_re_run_every_chapter(chain, book):
    (book / 'img' / 'dot.png').write_bytes(DOT + b'\0')
    assert chain() == ['01_a', '02_b', '03_c']
    (book / 'd2lstyle' / 'profiles.py').write_text('x = 3\n')
    assert chain() == ['01_a', '02_b', '03_c']
    assert chain() == []


def test_importable_code_is_the_save_cells_of_the_earlier_chapters(chain, book):
    paths = build.find_chapters(folder=book / 'chapters')
    assert [build.importable_code(p) for p in paths] == [
        '', 'def f1():\n    return 1', 'def f1():\n    return 1\n\ndef f2():\n    return 2']


# ---- running chapters side by side --------------------------------------------------------

def test_jobs_run_chapters_at_the_same_time_with_a_share_of_the_cores(book, capsys):
    # each chapter waits until the other has started: they finish only if run side by side
    cells = lambda me, other: (
        f'import os, pathlib, time\nflag = pathlib.Path({str(book)!r}) / "started"\n'
        f'(flag / {me!r}).write_text(os.environ["OMP_NUM_THREADS"])\n'
        f'deadline = time.time() + 30\n'
        f'while not (flag / {other!r}).exists():\n'
        f'    assert time.time() < deadline, "ran alone"\n    time.sleep(0.05)')
    (book / 'started').mkdir()
    notebook(book / 'chapters', '01_a', cells('a', 'b'))
    notebook(book / 'chapters', '02_b', cells('b', 'a'))
    build.main(['--jobs', '2', '--out', str(book / 'site')], root=book)
    threads = str(max(1, (os.cpu_count() or 1) // 2))
    assert [(book / 'started' / n).read_text() for n in 'ab'] == [threads, threads]
    assert summary_of(capsys.readouterr().out.splitlines())[:2] == [
        ('01_a', 'executed'), ('02_b', 'executed')]  # in reading order, whichever ended first


def test_a_failure_among_jobs_stops_the_others_and_keeps_what_finished(book):
    notebook(book / 'chapters', '01_ok', 'x = 1')
    notebook(book / 'chapters', '02_bad',  # fails once 01_ok has finished, even on a busy machine
             'import time\ntime.sleep(5)\n1 / 0')
    notebook(book / 'chapters', '03_long', 'import time\ntime.sleep(60)')
    start = time.monotonic()
    with pytest.raises(SystemExit) as exit_:
        build.main(['-j', '3', '--out', str(book / 'site')], root=book)
    assert time.monotonic() - start < 40  # 03_long was stopped, not waited for
    assert '02_bad.ipynb failed in code cell 1' in str(exit_.value.code)
    cache = book / '_build' / 'executed' / 'quick'
    assert sorted(p.name for p in cache.iterdir()) == ['01_ok.ipynb']


def test_jobs_must_be_positive(capsys):
    with pytest.raises(SystemExit):
        build.parse(['--jobs', '0'])
    assert '--jobs 0' in capsys.readouterr().err


# ---- the pages ----------------------------------------------------------------------------

def image_cell(code, tags=()):
    cell = new_code_cell(code)
    if tags:
        cell.metadata['tags'] = list(tags)
    return cell


SHOW_DOT = ('from IPython.display import Image, display\n'
            f'display(Image(data={DOT!r}, format="png"))')


def test_gallery_takes_the_tagged_cells_else_the_last_image(book):
    notebook(book / 'chapters', '01_tagged', image_cell(SHOW_DOT, ['gallery']),
             image_cell(SHOW_DOT + '\ndisplay(Image(data=' + repr(DOT) + ', format="png"))',
                        ['gallery', 'other']), image_cell(SHOW_DOT))
    notebook(book / 'chapters', '02_plain', image_cell(SHOW_DOT), image_cell(SHOW_DOT))
    notebook(book / 'chapters', '03_none', 'print(1)')
    build.main(['--out', str(book / 'site')], root=book)
    out = book / 'site'
    gallery = (out / 'gallery.html').read_text()
    shown = re.findall(r'<a href="([^"#]+)#cell-id=([^"]+)"><img src="([^"]+)"', gallery)
    tagged = [c for c in nbformat.read(book / '_build/executed/quick/01_tagged.ipynb', 4).cells
              if 'gallery' in c.metadata.get('tags', [])]
    last = nbformat.read(book / '_build/executed/quick/02_plain.ipynb', 4).cells[-1]
    assert [(page, cell) for page, cell, _ in shown] == [
        ('01_tagged.html', tagged[0].id), ('01_tagged.html', tagged[1].id),
        ('01_tagged.html', tagged[1].id), ('02_plain.html', last.id)]
    for page, cell, image in shown:
        assert (out / image).read_bytes() == DOT
        assert f'id="cell-id={cell}"' in (out / page).read_text()  # the link lands on it
    assert 'href="gallery.html"' in (out / '01_tagged.html').read_text()


def test_chapter_pages_have_the_book_sidebar_and_their_own_outline(site):
    out, _ = site
    page = (out / '02_b.html').read_text()
    bar = re.search(r'<nav [^>]*class="d2l-sidebar".*?</nav>', page, re.S).group(0)
    assert re.findall(r'<a [^>]*href="(\d\d_\w)\.html"', bar) == [name for name, _ in CHAPTERS]
    assert re.findall(r'<a [^>]*aria-current="page"[^>]*>', bar) == [
        '<a aria-current="page" href="02_b.html">']  # (nbconvert sorts the attributes)
    for target in ('gallery.html', 'credits.html', build.BOOK_ZIP, 'index.html'):
        assert f'href="{target}"' in bar and (out / target).exists()
    assert '_static/book.css' in page and '_static/book.js' in page
    assert (out / '_static' / 'book.js').read_text() == (build.ASSETS / 'book.js').read_text()


def test_the_outline_lists_h2_and_h3_without_their_pilcrows(book):
    path = notebook(book / 'chapters', '01_a', new_markdown_cell(
        '## Gram *matrices*\n\ntext\n\n### The loss, $L$\n\n#### too deep'))
    body = build.chapter_html(nbformat.read(path, 4), path, 'A')
    items = re.findall(r'<li class="d2l-h(\d)"><a href="#([^"]+)">(.*?)</a>', build.outline(body))
    assert [(level, text) for level, _, text in items] == [
        ('2', 'Gram matrices'), ('3', 'The loss, $L$')]
    assert all(f'id="{anchor}"' in body for _, anchor, _ in items)
    assert build.outline('<h1 id="x">Only a title</h1>') == ''


def test_long_outputs_are_folded_short_ones_are_not(book):
    long_lines = build.FOLD_LINES + 1
    path = notebook(book / 'chapters', '01_a', 'print("short")',
                    f'for i in range({long_lines}):\n    print("line", i)',
                    'class Net:  # a printed network is a result, not a stream\n'
                    f'    def __repr__(self):\n        return "layer\\n" * {long_lines + 1}\nNet()')
    nb, _ = run(book, path)
    body = build.chapter_html(nb, path, 'A')
    folded = re.findall(r'<details class="d2l-long"><summary>Output: (\d+) lines</summary>'
                        r'(.*?)</details>', body, re.S)
    assert [int(n) for n, _ in folded] == [long_lines, long_lines + 1]
    assert f'line {long_lines - 1}' in folded[0][1] and 'short' not in folded[0][1]
    assert 'short' in body


def test_the_book_zip_holds_what_the_chapters_need_and_is_reproducible(book):
    (book / 'd2lstyle' / 'notes.txt').write_text('not a module')
    (book / 'benchmarks').mkdir()
    (book / 'benchmarks' / 'step.json').write_text('{}')
    (book / 'benchmarks' / 'step.py').write_text('not for readers')
    (book / 'requirements.txt').write_text('mxnet==1.9.1\n')
    notebook(book / 'chapters', '01_a', "open('../img/dot.png').read()",
             new_markdown_cell("Text that quotes '../img/none.png' is not a file the code reads."))
    nb = nbformat.read(book / 'chapters' / '01_a.ipynb', 4)
    nb.cells[1].outputs = [new_output('stream', text='ran')]
    nbformat.write(nb, book / 'chapters' / '01_a.ipynb')
    data = build.book_zip(book)
    folder = build.BOOK_FOLDER
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.namelist() == [f'{folder}/{name}' for name in [
            'README.md', 'requirements.txt', 'chapters/01_a.ipynb', 'd2lstyle/__init__.py',
            'd2lstyle/profiles.py', 'img/CREDITS.md', 'img/dot.png', 'benchmarks/step.json']]
        assert archive.read(f'{folder}/d2lstyle/profiles.py') == b'x = 1\n'
        assert 'Python 3.10 or 3.11' in archive.read(f'{folder}/README.md').decode()
        chapter = nbformat.reads(archive.read(f'{folder}/chapters/01_a.ipynb').decode(), 4)
        assert build.check_clean(book / 'chapters' / '01_a.ipynb') != []
        assert chapter.cells[1].outputs == []  # stripped in the download
        assert build.files_beside(chapter) == ['img/dot.png']
    os.utime(book / 'd2lstyle' / 'profiles.py', (0, 0))
    assert build.book_zip(book) == data


def test_a_chapter_page_says_what_its_notebook_needs_beside_it(book):
    path = notebook(book / 'chapters', '01_a', "x = read('../img/dot.png')\ny = '../benchmarks/a.json'")
    body = build.chapter_html(nbformat.read(path, 4), path, 'A')
    line = re.search(r'<p class="d2l-needs">(.*?)</p>', body, re.S).group(1)
    assert f'href="{build.BOOK_ZIP}"' in line and '<code>chapters/01_a.ipynb</code>' in line
    assert '<code>img/dot.png</code>, <code>benchmarks/a.json</code>' in line


