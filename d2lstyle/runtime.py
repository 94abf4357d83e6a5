"""What the commands and the benchmarks share at run time: the device a run uses, its
progress bar, and the record of a run (versions, machine, settings), which the commands write with
``atomic.write_json``.

It sits between the commands (``stylize``, ``transfer``, the benchmarks) and the library
(the chapters' code in ``d2lstyle.mxnet``, ``weights``, ``images``): it imports MXNet.
"""
import ctypes
import gc
import os
import platform
import sys
from pathlib import Path

import mxnet as mx
import numpy
from tqdm import tqdm

from . import D2lStyleError, __version__
from . import mxnet as d2l
from .atomic import EXIT_KEPT, Keeper


def progress(iterable=None, **options):
    """A tqdm progress bar with its time left; redrawn every 10 s, not 10 times a second, when
    it goes to a log or a notebook rather than to a terminal."""
    return tqdm(iterable, mininterval=0.1 if sys.stderr.isatty() else 10, **options)


def device(name):
    """The context of ``--device cpu`` or ``--device gpu`` (chapter 1's ``try_gpu``)."""
    if name == 'gpu' and mx.context.num_gpus() == 0:
        raise D2lStyleError('--device gpu: MXNet sees no GPU (the CPU build of MXNet never '
                            'does); use --device cpu')
    return d2l.try_gpu() if name == 'gpu' else mx.cpu()


def devices(name, count):
    """``count`` contexts of ``--device name``, for data-parallel training."""
    if name == 'gpu':
        device('gpu')  # the clear error when MXNet sees none
        if count > mx.context.num_gpus():
            raise D2lStyleError(f'--devices {count}: MXNet sees {mx.context.num_gpus()} GPUs')
        return [mx.gpu(i) for i in range(count)]
    return [mx.cpu(i) for i in range(count)]


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


def release_memory():
    """Give the memory of arrays freed so far back to the system. MXNet's CPU arrays come from
    the C allocator, and glibc keeps freed blocks for reuse; blocks of one stage's sizes fit no
    request of the next stage's, so without this the peaks of successive stages add up."""
    gc.collect()
    mx.nd.waitall()
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


def machine():
    """The machine a figure was measured on, in words."""
    threads = os.environ.get('OMP_NUM_THREADS', 'unset')
    return (f'{os.cpu_count()} cores of {cpu_model()}, OMP_NUM_THREADS={threads}, '
            f'{mx.context.num_gpus()} GPUs')


def versions():
    return {'d2lstyle': __version__, 'mxnet': mx.__version__, 'numpy': numpy.__version__,
            'python': platform.python_version()}


def record(command, settings, **facts):
    """The record of a run: what ran, with which settings, where, with which versions."""
    return {'command': command, 'settings': settings, **facts,
            'machine': machine(), 'versions': versions()}
