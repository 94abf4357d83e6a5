"""builder/execute.py: chapters executed in their own kernels, cached, failures made clear."""
import json
import os
import re
import sys
import time
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_markdown_cell, new_output

import build
from builder import BuildError
from builder.execute import ChapterRun, cache_key, execute, importable_code, summary
from builder.notebooks import find_chapters
from conftest import DOT, edit, notebook


def run(book, path, profile='quick', timeout=60):
    return execute(path, profile, book / '_build' / 'executed', timeout, root=book)


def summary_of(lines):
    """(name, what) of the summary's rows, checking that each ends with a time."""
    rows = [re.fullmatch(r'(\S+) +(executed|cached|rendered|) +\d+\.\d s', line)
            for line in lines]
    return [row.groups() for row in rows if row]


# ---- the cache ----------------------------------------------------------------------------

def test_execution_is_cached_until_cells_package_images_or_profile_change(book):
    log = book / 'runs.txt'
    path = notebook(book / 'chapters', '01_a', f"import os\nopen({str(log)!r}, 'a')"
                    ".write(os.environ['D2LSTYLE_PROFILE'] + ' ')")
    ran = lambda profile='quick': run(book, path, profile)[1]
    assert ran() is True and ran() is False
    stored = nbformat.read(book / '_build' / 'executed' / 'quick' / '01_a.ipynb', as_version=4)
    assert stored.metadata['d2lstyle']['cache_key'] == cache_key(
        nbformat.read(path, as_version=4), 'quick', book)
    (book / 'd2lstyle' / 'profiles.py').write_text('x = 2\n')
    assert ran() is True and ran() is False
    (book / 'd2lstyle' / 'sub').mkdir()
    (book / 'd2lstyle' / 'sub' / '__init__.py').write_text('')  # a subpackage counts too
    assert ran() is True
    (book / 'img' / 'dot.png').write_bytes(DOT + b'\0')
    assert ran() is True
    (book / 'd2lstyle' / 'notes.txt').write_text('not code')  # only *.py count
    (book / 'd2lstyle' / 'mxnet').mkdir()
    (book / 'd2lstyle' / 'mxnet' / 'a.py').write_text('A = 1')  # generated: not a cause
    assert ran() is False
    (book / 'benchmarks').mkdir()
    (book / 'benchmarks' / 'step.json').write_text('{}')  # results a chapter shows
    assert ran() is True
    assert ran('full') is True and ran('full') is False and ran('quick') is False
    nb = nbformat.read(path, as_version=4)
    nb.cells[1].source += '\n2'
    nbformat.write(nb, path)
    assert ran() is True
    assert log.read_text().split() == ['quick'] * 5 + ['full', 'quick']


def test_the_key_ignores_outputs_but_not_cell_types(book):
    nb = nbformat.read(notebook(book / 'chapters', '01_a', 'print(1)'), as_version=4)
    key = cache_key(nb, 'quick', book)
    nb.cells[1].outputs = [new_output('stream', name='stdout', text='1\n')]
    nb.cells[1].execution_count = 1
    assert cache_key(nb, 'quick', book) == key
    nb.cells[1] = new_markdown_cell('print(1)')
    assert cache_key(nb, 'quick', book) != key
    assert cache_key(nb, 'full', book) != cache_key(nb, 'quick', book)
    assert cache_key(nb, 'quick', book, stand_in_gpus=2) != cache_key(nb, 'quick', book)


# ---- the kernel and its failures ----------------------------------------------------------

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
    with pytest.raises(BuildError) as err:
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
    with pytest.raises(BuildError) as err:
        run(book, path, timeout=4)
    assert time.monotonic() - start < 9  # stopped, not run to the end
    message = str(err.value)
    match = re.search(r'01_slow.ipynb failed in code cell (\d+) \(cell (\d+) of 22\): timed out: '
                      r'the notebook was still running after 4 s \(raise --timeout\)', message)
    assert match, message
    assert 2 <= int(match.group(1)) < 21 and int(match.group(2)) == int(match.group(1)) + 1
    assert not (book / '_build' / 'executed' / 'quick' / '01_slow.ipynb').exists()


def test_the_summary_times_each_chapter_the_site_and_the_total():
    runs = [ChapterRun(Path('chapters/01_long_name.ipynb'), None, True, 61.25),
            ChapterRun(Path('chapters/02_b.ipynb'), None, False, 0.04)]
    assert summary(runs, 2.5, 64.0).splitlines() == [
        '01_long_name  executed     61.2 s',
        '02_b          cached        0.0 s',
        'site          rendered      2.5 s',
        'total                      64.0 s']


# ---- what a change re-executes ------------------------------------------------------------

@pytest.fixture
def chain(book):
    """Three chapters with #@save cells, each logging its runs; chain() builds, returns who ran."""
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


def test_nothing_changed_nothing_runs(chain, book):
    assert chain() == []
    (book / 'd2lstyle' / 'mxnet' / 'c.py').write_text('# hand-edited')  # regenerated, not a cause
    assert chain() == []
    assert 'def f3():' in (book / 'd2lstyle' / 'mxnet' / 'c.py').read_text()


def test_a_save_cell_re_runs_its_chapter_and_the_later_ones(chain, book):
    edit(book, '02_b', 1, '#@save\ndef f2():\n    return 20')
    assert chain() == ['02_b', '03_c']
    edit(book, '01_a', 1, '#@save\ndef f1():\n    return 10')
    assert chain() == ['01_a', '02_b', '03_c']
    edit(book, '03_c', 1, '#@save\ndef f3():\n    return 30')  # nobody imports the last one
    assert chain() == ['03_c']


def test_a_plain_cell_re_runs_only_its_chapter(chain, book):
    path = book / 'chapters' / '01_a.ipynb'
    edit(book, '01_a', 2, nbformat.read(path, as_version=4).cells[2].source + '\nx = 1')
    assert chain() == ['01_a']


def test_images_and_the_package_modules_re_run_every_chapter(chain, book):
    (book / 'img' / 'dot.png').write_bytes(DOT + b'\0')
    assert chain() == ['01_a', '02_b', '03_c']
    (book / 'd2lstyle' / 'profiles.py').write_text('x = 3\n')
    assert chain() == ['01_a', '02_b', '03_c']
    assert chain() == []


def test_importable_code_is_the_save_cells_of_the_earlier_chapters(chain, book):
    paths = find_chapters(folder=book / 'chapters')
    assert [importable_code(p) for p in paths] == [
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


def test_executing_gives_the_signal_handlers_back_as_it_found_them(book):
    """nbclient resets SIGINT and SIGTERM to their defaults as a kernel ends; the build's own
    handlers (Stops) must leave those of its caller in place, so that a signal while the site
    renders still stops the build cleanly."""
    import asyncio
    import signal
    from builder.execute import execute_many
    from d2lstyle import signals
    path = notebook(book / 'chapters', '01_a', 'print(1)')

    def mine(number, frame):
        pass
    with signals.handlers(mine, signals.STOPS):
        asyncio.run(execute_many([path], 'quick', None, 60, book))
        assert [signal.getsignal(n) for n in signals.STOPS] == [mine] * len(signals.STOPS)
