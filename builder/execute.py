"""Executing the chapters with nbclient, each in its own kernel, cached by what it depends on.

A chapter runs again only when its cells, the ``#@save`` code of an earlier chapter (what it
can import), another module of the helper package, a file under ``img/``, a benchmark result
(``benchmarks/*.json``), the profile or the stand-in GPUs changed; the executed notebooks are
kept in ``_build/executed/<profile>/`` (MXNet's tab) and ``_build/executed/<profile>-pytorch/``.
Each framework's tab of a chapter (builder.tabs) is a notebook of its own, run in its own kernel.
"""
import asyncio
import hashlib
import os
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, DeadKernelError

from builder import BUILD, IMG, ROOT, BuildError, stored_results, write_atomic
from builder.notebooks import find_chapters, for_students
from builder.package import package_files, saved_cells
from builder.tabs import FRAMEWORKS, for_framework, frameworks_of
from d2lstyle import signals

# A full-profile chapter trains on a CPU for most of an hour, so allow two per notebook.
DEFAULT_TIMEOUT = 7200
EXECUTED = 'executed'  # the folder under _build/ of the executed notebooks


def key_files(root=ROOT):
    """The files besides the chapters whose change must re-execute every chapter.

    The generated package is left out: a chapter's key holds the #@save code it can import
    instead, so editing a late chapter's #@save cell does not re-run the early ones.
    """
    images = sorted(p for p in (Path(root) / IMG).rglob('*') if p.is_file())
    results = stored_results(root)
    return package_files(root, generated=False) + images + results  # chapter 6 shows models


def importable_code(path, framework=FRAMEWORKS[0]):
    """The #@save code of the chapters before ``path`` in ``framework``'s tab: what it can call
    as ``d2l.name``.

    Its own #@save cells are among its cells, which the key hashes anyway.
    """
    earlier = [p for p in find_chapters(folder=Path(path).parent) if p.name < Path(path).name]
    return '\n\n'.join(body for p in earlier
                       for _, body in saved_cells(for_framework(nbformat.read(p, 4), framework, p)))


def cache_key(nb, profile, root=ROOT, imported='', stand_in_gpus=0, framework=FRAMEWORKS[0]):
    """sha256 of the framework, the cells (not their outputs), the #@save code ``imported``
    from earlier chapters, the package's other modules, the images, the benchmarks, the profile
    and the stand-in GPUs."""
    digest = hashlib.sha256(f'framework\0{framework}\0profile\0{profile}\0'.encode())
    if stand_in_gpus:
        digest.update(f'stand-in\0{stand_in_gpus}\0'.encode())
    for cell in nb.cells:
        digest.update(f'cell\0{cell.cell_type}\0{len(cell.source)}\0{cell.source}'.encode())
    digest.update(f'imported\0{len(imported)}\0{imported}'.encode())
    for path in key_files(root):
        data = path.read_bytes()
        name = path.relative_to(root).as_posix()
        digest.update(f'file\0{name}\0{len(data)}\0'.encode() + data)
    return digest.hexdigest()


# What a framework's tab must run without: its kernel refuses to import them, so that a tab
# that needs them fails its build (this Python has both frameworks installed).
FORBIDDEN = {'pytorch': ('mxnet', 'gluoncv')}


def kernel_env(profile, root=ROOT, jobs=1, stand_in_gpus=0, framework=FRAMEWORKS[0]):
    """The kernel: this Python (the venv's), the profile, its share of the cores, this
    checkout's package, with ``stand_in_gpus`` the stand-in GPUs of d2lstyle.standin, and
    without the modules FORBIDDEN to ``framework``'s tab."""
    env = dict(os.environ, D2LSTYLE_PROFILE=profile)
    if stand_in_gpus:
        env['IPYTHONDIR'] = str(stand_in_ipython(root, stand_in_gpus))
    elif FORBIDDEN.get(framework):
        env['IPYTHONDIR'] = str(forbidding_ipython(root, framework))
    # MXNet sizes its thread pool at import (else half the cores); kernels running side by
    # side would fight over the cores if each took them all.
    env['OMP_NUM_THREADS'] = str(max(1, (os.cpu_count() or 1) // jobs))
    env['PATH'] = os.path.dirname(sys.executable) + os.pathsep + env.get('PATH', '')
    # The key hashes root/d2lstyle, so that is what the chapters must import, installed or not.
    env['PYTHONPATH'] = os.pathsep.join(filter(None, [str(root), env.get('PYTHONPATH')]))
    return env


def stand_in_ipython(root, count):
    """An IPython folder whose start-up file installs ``count`` stand-in GPUs in the kernel."""
    folder = Path(root) / BUILD / f'ipython-stand-in-{count}'
    startup = folder / 'profile_default' / 'startup' / '00-stand-in.py'
    startup.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(startup, f'from d2lstyle import standin\nstandin.install({count})\n')
    return folder


def forbidding_ipython(root, framework):
    """An IPython folder whose start-up file forbids what ``framework``'s tab runs without."""
    folder = Path(root) / BUILD / f'ipython-{framework}'
    startup = folder / 'profile_default' / 'startup' / '00-forbid.py'
    startup.parent.mkdir(parents=True, exist_ok=True)
    modules = ', '.join(map(repr, FORBIDDEN[framework]))
    write_atomic(startup, f'from d2lstyle import frameworks\nframeworks.forbid({modules}, '
                          f'why="the {framework} tab runs without it")\n')
    return folder


def cached(target, key):
    """The executed notebook at ``target`` if it was made with ``key``, else None."""
    try:
        nb = nbformat.read(target, as_version=4)
    except (OSError, ValueError):  # missing, or not a notebook: execute again
        return None
    return nb if nb.metadata.get('d2lstyle', {}).get('cache_key') == key else None


@dataclass
class ChapterRun:
    """One framework's tab of a chapter in a build: its source, the executed notebook, whether
    it ran, how long."""
    path: Path
    nb: nbformat.NotebookNode
    ran: bool
    seconds: float
    framework: str = FRAMEWORKS[0]


def executed_folder(profile, framework=FRAMEWORKS[0], solutions=False):
    """The folder under _build/executed/ of a profile's executed notebooks of one framework."""
    tab = '' if framework == FRAMEWORKS[0] else f'-{framework}'
    return profile + tab + ('-solutions' if solutions else '')


async def execute_async(path, profile='quick', cache=None, timeout=DEFAULT_TIMEOUT, root=ROOT,
                        jobs=1, stand_in_gpus=0, solutions=False, framework=FRAMEWORKS[0],
                        stops=None):
    """The ChapterRun of ``framework``'s tab of the chapter, its notebook from the cache when
    nothing it depends on changed; without ``solutions``, the cells tagged as solutions are
    left out first. The stand-in GPUs are MXNet's, so other frameworks run without them."""
    start = time.monotonic()
    nb = for_framework(nbformat.read(path, as_version=4), framework, path)
    if not solutions:
        for_students(nb)
    stand_in_gpus = stand_in_gpus if framework == FRAMEWORKS[0] else 0
    key = cache_key(nb, profile, root, importable_code(path, framework), stand_in_gpus,
                    framework)
    target = (Path(cache or Path(root) / BUILD / EXECUTED)
              / executed_folder(profile, framework, solutions) / Path(path).name)
    old = cached(target, key)
    if old is not None:
        return ChapterRun(Path(path), old, False, time.monotonic() - start, framework)
    try:
        await run_notebook(nb, path, kernel_env(profile, root, jobs, stand_in_gpus, framework),
                           timeout, stops)
    except BuildError:
        target.unlink(missing_ok=True)  # an older result must not stand in for a failure
        raise
    nb.metadata['d2lstyle'] = {'cache_key': key, 'profile': profile, 'framework': framework,
                               'stand_in_gpus': stand_in_gpus}
    write_atomic(target, nbformat.writes(nb))
    return ChapterRun(Path(path), nb, True, time.monotonic() - start, framework)


def execute(path, profile='quick', cache=None, timeout=DEFAULT_TIMEOUT, root=ROOT,
            framework=FRAMEWORKS[0]):
    """The executed notebook of a framework's tab (cached or run now) and whether it ran."""
    run = asyncio.run(execute_async(path, profile, cache, timeout, root, framework=framework))
    return run.nb, run.ran


async def run_notebook(nb, path, env, timeout, stops=None):
    """Execute ``nb`` in place in its chapter's folder within ``timeout`` seconds in all
    (0: no limit); a failure becomes a BuildError. ``stops``: the build's Stops."""
    current = {}

    def on_cell_start(cell, cell_index):
        current.update(index=cell_index)
        if stops:  # over nbclient's, which would shut the kernel down under the running cell
            stops.install()

    client = NotebookClient(
        nb, timeout=None, kernel_name='python3',
        resources={'metadata': {'path': str(Path(path).parent)}}, on_cell_start=on_cell_start)
    task = asyncio.ensure_future(client.async_execute(env=env))
    try:
        done, _ = await asyncio.wait({task}, timeout=timeout or None)
        if not done:
            # Cancelling makes nbclient shut the kernel down; the cell it interrupts may end
            # in any error (DeadKernelError, often), but the cause is the time limit.
            raise asyncio.TimeoutError
        task.result()
    except (CellExecutionError, DeadKernelError, asyncio.TimeoutError) as err:
        raise BuildError(failure_message(path, nb, current.get('index'), err, timeout)) from None
    finally:
        if not task.done():
            task.cancel()
        await asyncio.gather(task, return_exceptions=True)  # its error taken, not logged
        if stops:  # nbclient reset the handlers to the defaults as the kernel ended
            stops.install()


def failure_message(path, nb, index, err, timeout=None):
    """One paragraph: the notebook, the cell (among code cells and among all) and the error."""
    if isinstance(err, CellExecutionError):
        what = f'{err.ename}: {err.evalue}'
    elif isinstance(err, asyncio.TimeoutError):
        what = f'timed out: the notebook was still running after {timeout} s (raise --timeout)'
    else:
        what = f'{type(err).__name__}: the kernel died (out of memory?)'
    what = ' '.join(what.split())
    if len(what) > 600:  # MXNet's errors carry a C++ stack trace: the head says what failed
        what = what[:600] + ' [...]'
    if index is None:
        return f'{path} failed before its first cell ran: {what}'
    number = [i for i, c in enumerate(nb.cells) if c.cell_type == 'code'].index(index) + 1
    return (f'{path} failed in code cell {number} (cell {index + 1} of {len(nb.cells)}): '
            f'{what}. Run the notebook in Jupyter to see the traceback.')


def tabs_to_run(paths, frameworks=FRAMEWORKS):
    """(path, framework) of each tab of the chapters ``paths`` among ``frameworks``."""
    return [(Path(path), f) for path in paths
            for f in frameworks_of(nbformat.read(path, as_version=4), path) if f in frameworks]


async def execute_many(paths, profile, cache, timeout, root, jobs=1, stand_in_gpus=0,
                       solutions=False, frameworks=FRAMEWORKS):
    """Run the chapters' tabs of ``frameworks`` ``jobs`` at a time, in separate kernels; their
    ChapterRuns in ``paths`` order, a chapter's tabs in the order of FRAMEWORKS.

    The first failure cancels the others (their kernels shut down); finished ones stay cached.
    """
    slots, tasks = asyncio.Semaphore(jobs), []
    stops = Stops(tasks)

    async def one(path, framework):
        async with slots:
            run = await execute_async(path, profile, cache, timeout, root, jobs, stand_in_gpus,
                                      solutions, framework, stops)
        took = f'executed in {run.seconds:.0f} s' if run.ran else 'cached'
        print(f'{label(run)}: {took} ({profile})', flush=True)
        return run

    tasks += [asyncio.ensure_future(one(path, f)) for path, f in tabs_to_run(paths, frameworks)]
    stops.install()
    try:
        runs = await asyncio.gather(*tasks)
        if stops.came:  # it came as the last chapter finished
            raise signals.Stopped(stops.came[0])
        return runs
    except asyncio.CancelledError:
        if stops.came:  # the kernels are shut down in finally, before the build stops
            raise signals.Stopped(stops.came[0]) from None
        raise
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        stops.remove()


class Stops:
    """Ctrl-C, SIGTERM and SIGHUP while chapters execute: each cancels the running chapters,
    whose kernels nbclient then shuts down, and the build stops as Ctrl-C stops it
    (signals.Stopped), their cache entries unwritten. nbclient installs handlers of its own
    while a kernel starts and resets them to the defaults when it ends: ``install`` again
    after each; ``remove`` gives back the handlers there were before."""

    def __init__(self, tasks):
        self.tasks, self.came = tasks, []
        self.before = {number: signal.getsignal(number) for number in signals.STOPS}

    def install(self):
        loop = asyncio.get_running_loop()
        for number in signals.STOPS:
            loop.add_signal_handler(number, self.stop, number)

    def stop(self, number):
        self.came.append(number)
        for task in self.tasks:
            task.cancel()

    def remove(self):
        for number, handler in self.before.items():
            asyncio.get_running_loop().remove_signal_handler(number)
            signal.signal(number, handler)


def label(run):
    """A run's name in what the build prints: the chapter, and the framework if not MXNet."""
    return run.path.stem + ('' if run.framework == FRAMEWORKS[0] else f' ({run.framework})')


def summary(runs, render_seconds, total_seconds):
    """The time of each chapter's tab, of the rendering and of the whole build, as a table."""
    rows = [(label(run), 'executed' if run.ran else 'cached', run.seconds) for run in runs]
    rows += [('site', 'rendered', render_seconds), ('total', '', total_seconds)]
    width = max(len(name) for name, _, _ in rows)
    return '\n'.join(f'{name:<{width}}  {what:<8}  {seconds:7.1f} s' for name, what, seconds in rows)
