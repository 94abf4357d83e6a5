"""What the commands and the benchmarks share at run time: a progress bar, memory given back
between stages, results kept where their place fails, and the record of a run (versions,
machine, framework and device, settings), which the commands write with ``atomic.write_json``.

It sits between the commands (``stylize``, ``transfer``, the benchmarks) and the library; it
imports no framework itself: where one matters, the caller passes the module that ``framework``
gives.
"""
import ctypes
import gc
import importlib
import os
import platform
import sys
from pathlib import Path

import numpy
from tqdm import tqdm

from . import __version__, frameworks
from .atomic import EXIT_KEPT, Keeper


def framework(name=None):
    """The module of framework ``name`` (default: ``frameworks.default()``) for the commands:
    ``frameworks.mxnet`` or ``frameworks.pytorch``, after ``frameworks.require`` passed."""
    name = name or frameworks.default()
    frameworks.require(name)
    return importlib.import_module(f'{frameworks.__name__}.{name}')


def progress(iterable=None, **options):
    """A tqdm progress bar with its time left; redrawn every 10 s, not 10 times a second, when
    it goes to a log or a notebook rather than to a terminal."""
    return tqdm(iterable, mininterval=0.1 if sys.stderr.isatty() else 10, **options)


M_MMAP_THRESHOLD = -3  # mallopt's parameter number in glibc's malloc.h


def allocate_large_blocks_apart(threshold=1 << 20):
    """Make glibc serve blocks of ``threshold`` bytes and more with mmap, so that freeing
    one gives it back to the system. glibc raises its threshold (up to 32 MB) each time such
    a block is freed, after which a stage's feature maps land on the heap, where freed blocks
    of one stage's sizes stay reserved through the next; a fixed threshold stops that."""
    try:
        ctypes.CDLL('libc.so.6').mallopt(M_MMAP_THRESHOLD, threshold)
    except (OSError, AttributeError):  # not glibc
        pass


def release_memory(framework):
    """Give the memory of arrays freed so far back to the system. MXNet's CPU arrays come from
    the C allocator, and glibc keeps freed blocks for reuse; blocks of one stage's sizes fit no
    request of the next stage's, so without this the peaks of successive stages add up."""
    gc.collect()
    framework.wait()
    try:
        ctypes.CDLL('libc.so.6').malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to trim
        pass


def keep_results(writes):
    """A command's results, ``writes`` = [(write, path), ...] in order, each kept in the
    temporary folder where its place fails (atomic.Keeper), with one line on stderr where one
    did. The paths written (None where nowhere took them), and EXIT_KEPT or None."""
    keeper, paths = Keeper(), []
    for write, path in writes:
        try:
            paths.append(keeper.write(write, path))
        except OSError as err:
            kept = f'; kept {" and ".join(map(str, keeper.kept))}' if keeper.kept else ''
            print(f'd2lstyle: error: could not write {path} nor keep it in the temporary folder '
                  f'({err.strerror or err}){kept}', file=sys.stderr)
            return None, EXIT_KEPT
    if keeper.failed:
        print(f'd2lstyle: error: {keeper.message()}', file=sys.stderr)
        return paths, EXIT_KEPT
    return paths, None


def cpu_model():
    cpuinfo = Path('/proc/cpuinfo')
    for line in cpuinfo.read_text().splitlines() if cpuinfo.exists() else ():
        if line.startswith('model name'):
            return line.split(':', 1)[1].strip()
    return platform.processor() or 'unknown CPU'


def machine(framework):
    """The machine a figure was measured on, in words, with the GPUs ``framework`` sees."""
    threads = os.environ.get('OMP_NUM_THREADS', 'unset')
    return (f'{os.cpu_count()} cores of {cpu_model()}, OMP_NUM_THREADS={threads}, '
            f'{framework.num_gpus()} GPUs')


def versions(framework):
    return {'d2lstyle': __version__, framework.NAME: framework.VERSION,
            'numpy': numpy.__version__, 'python': platform.python_version()}


def measured_on(framework):
    """A benchmark's facts about where it ran: the machine and the versions."""
    return {'machine': machine(framework), 'versions': versions(framework)}


def record(command, settings, framework, device, **facts):
    """The record of a run: what ran, with which settings, where (the framework and the
    device it ran on), with which versions."""
    return {'command': command, 'settings': settings, **facts, 'framework': framework.NAME,
            'device': framework.describe(device), 'machine': machine(framework),
            'versions': versions(framework)}
