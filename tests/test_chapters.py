"""The chapters run as they read: every #@save cell runs where it stands, and later cells call
the chapter's own definitions, so that a student's edit of one takes effect.

A #@save cell may use only what earlier #@save cells of its notebook define or import (earlier
chapters' code as ``d2l.name``): then it runs in the notebook and in the generated package alike.

Static checks of the notebooks' code (no kernel): each is also shown to catch the defect.
"""
import builtins
import re
import symtable

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from builder.notebooks import find_chapters
from builder.package import SAVE_MARK
from builder.tabs import for_framework, frameworks_of


def code_of(cell):
    """A code cell's Python, without IPython's %magic and !shell lines."""
    return '\n'.join(l for l in cell.source.splitlines() if not l.lstrip().startswith(('%', '!')))


def is_saved(cell):
    return cell.source.lstrip().startswith(SAVE_MARK)


def bound_and_free(code):
    """Names the code binds at its top level, and names it reads without binding them."""
    top = symtable.symtable(code, '<cell>', 'exec')
    bound = {s.get_name() for s in top.get_symbols()
             if s.is_assigned() or s.is_imported() or s.is_namespace()}

    def read(table):
        names = {s.get_name() for s in table.get_symbols() if s.is_referenced()
                 and (s.is_global() or (table is top and not s.is_local()))}
        return names.union(*(read(child) for child in table.get_children()))
    return bound, read(top) - bound


def unbound_in_saved_cells(nb):
    """(cell index, names) for each #@save cell that reads names no earlier #@save cell binds."""
    known, problems = set(dir(builtins)), []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != 'code' or not is_saved(cell):
            continue
        bound, free = bound_and_free(code_of(cell))
        if free - known:
            problems.append((i, sorted(free - known)))
        known |= bound
    return problems


def copies_called(nb):
    """(cell index, name) wherever a cell calls d2l.name for a name this notebook defines,
    except the function a cell hands to ``spawn``: a new process imports it by name, and only
    the package's copy has one."""
    own = set()
    for cell in nb.cells:
        if cell.cell_type == 'code' and is_saved(cell):
            own |= bound_and_free(code_of(cell))[0]
    return [(i, name) for i, cell in enumerate(nb.cells) if cell.cell_type == 'code'
            for name in re.findall(r'(?<!spawn\()\bd2l\.(\w+)', code_of(cell)) if name in own]


def tabs():
    """(path, framework) of each framework's tab of each chapter."""
    return [(p, f) for p in find_chapters() for f in frameworks_of(nbformat.read(p, 4), p)]


def tab(path, framework):
    return for_framework(nbformat.read(path, as_version=4), framework, path)


TABS = tabs()


@pytest.mark.parametrize('path, framework', TABS, ids=lambda v: getattr(v, 'stem', v))
def test_every_saved_cell_needs_only_names_its_notebook_defined_before(path, framework):
    assert unbound_in_saved_cells(tab(path, framework)) == []


@pytest.mark.parametrize('path, framework', TABS, ids=lambda v: getattr(v, 'stem', v))
def test_no_cell_calls_the_package_copy_of_the_chapters_own_code(path, framework):
    assert copies_called(tab(path, framework)) == []


def test_the_checks_catch_both_defects():
    nb = new_notebook(cells=[new_code_cell(c) for c in [
        '#@save\nimport numpy as np\nfrom d2lstyle import mxnet as d2l',
        '%matplotlib inline\nimport json\nctx = 1',
        '#@save\ndef scale(x, k=2):\n    return np.asarray(x) * k + offset + ctx',
        '#@save\nclass Block(d2l.StyleLoss):\n    def f(self):\n        return gram(self) + [y for y in ys]',
        'offset = 1\nprint(d2l.scale([1]), scale([1]), d2l.gram)',
        'spawn(d2l.scale, nprocs=2)\nd2l.scale([2])']])
    assert unbound_in_saved_cells(nb) == [(2, ['ctx', 'offset']), (3, ['gram', 'ys'])]
    # a cell that spawns the package's copy may name it; calling it is still a defect
    assert copies_called(nb) == [(4, 'scale'), (5, 'scale')]
