"""The chapters: which notebooks they are, their titles, and notebooks kept without outputs."""
import re
from pathlib import Path

import nbformat

from builder import CHAPTERS, ROOT, BuildError, write_atomic

SOLUTION = 'solution'  # the tag of a cell that answers an exercise


def find_chapters(names=(), folder=ROOT / CHAPTERS, order=None):
    """Chapter notebooks in reading order (``order``, by default every one in ``folder`` by
    name); or those of them named by stem, file name, path or number."""
    found = list(order) if order is not None else sorted(Path(folder).glob('[0-9]*.ipynb'))
    chosen = []
    for name in names:
        stem = Path(name).stem
        match = [p for p in found if stem in (p.stem, number_of(p))
                 or (stem.isdigit() and number_of(p).isdigit()
                     and int(stem) == int(number_of(p)))]  # '3' names 03_...
        if not match:
            where = 'among the book\'s chapters' if order is not None else f'in {folder}'
            raise BuildError(f'no chapter {name!r} {where}; the chapters are '
                             + (', '.join(p.stem for p in found) or 'none'))
        chosen += [p for p in match if p not in chosen]
    return [p for p in found if p in chosen] if names else found


def number_of(path):
    """The number a chapter's file name starts with: '03' for 03_optimizers.ipynb."""
    return Path(path).stem.split('_')[0]


def title_of(nb, path):
    """The chapter's title: its first markdown ``# heading``, else the file's name."""
    for cell in nb.cells:
        if cell.cell_type == 'markdown':
            match = re.match(r'#\s+(.+)', cell.source.strip())
            if match:
                return match.group(1).strip()
    return Path(path).stem


def pages_of(chapter_paths):
    """(name, title) of each chapter, from the sources: no execution needed."""
    return [(Path(p).stem, title_of(nbformat.read(p, as_version=4), p)) for p in chapter_paths]


def check_clean(path):
    """What a notebook carries that should not be in git: outputs, execution counts."""
    nb = nbformat.read(path, as_version=4)
    code = (c for c in nb.cells if c.cell_type == 'code')
    return [f'{path}: code cell {n} has {what}' for n, cell in enumerate(code, 1)
            for what, bad in (('outputs', cell.outputs),
                              ('an execution count', cell.execution_count))
            if bad]


def stripped(nb):
    """``nb`` without outputs, execution counts or timings (changed in place, returned)."""
    for cell in nb.cells:
        if cell.cell_type == 'code':
            cell.outputs, cell.execution_count = [], None
            cell.metadata.pop('execution', None)
    return nb


def for_students(nb):
    """``nb`` without its cells tagged SOLUTION (changed in place, returned): what the
    students' site, notebooks and download hold; the instructor's build keeps them."""
    nb.cells = [c for c in nb.cells if SOLUTION not in c.metadata.get('tags', [])]
    return nb


def strip(path):
    """Strip the notebook at ``path`` in place; return whether anything changed."""
    nb = nbformat.read(path, as_version=4)
    before = nbformat.writes(nb)
    if nbformat.writes(stripped(nb)) == before:
        return False
    write_atomic(path, nbformat.writes(nb) + '\n')  # Jupyter ends its files with a newline
    return True
