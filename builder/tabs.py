"""Framework tabs: one source per chapter, a notebook per framework cut from it.

A code cell belongs to the framework its first line names, ``#@tab mxnet``, ``#@tab pytorch``
or ``#@tab all`` (both); a code cell without the line is MXNet's, the book's first framework.
A markdown cell is shared, unless its first line is ``<!-- @tab pytorch -->`` (or mxnet): then
only that framework's page and notebook show it. The mark is an HTML comment so that Jupyter
shows nothing of it. ``for_framework`` cuts one framework's notebook from the source, its marks
removed; its cells keep the source's order, so ``positions`` maps each back to the source.
"""
import copy
import json
import re

from builder import BuildError

FRAMEWORKS = ('mxnet', 'pytorch')  # the first is what an unmarked code cell is
ALL = 'all'
LABELS = {'mxnet': 'MXNet', 'pytorch': 'PyTorch'}
CODE_MARK = re.compile(r'#@tab\s+(\S+)\s*$')
PROSE_MARK = re.compile(r'<!--\s*@tab\s+(\S+)\s*-->\s*$')


def tab_of(cell, where='a notebook'):
    """The framework a cell belongs to ('mxnet', 'pytorch' or 'all'); None for shared prose."""
    first = cell.source.lstrip().split('\n', 1)[0].rstrip()
    mark = CODE_MARK if cell.cell_type == 'code' else PROSE_MARK
    match = mark.match(first)
    if match is None:
        return FRAMEWORKS[0] if cell.cell_type == 'code' else None
    tab = match.group(1)
    if tab not in (*FRAMEWORKS, ALL):
        raise BuildError(f'{where}: a cell is marked for the framework {tab!r}; mark it '
                         f'{", ".join(FRAMEWORKS)} or {ALL} (its first line: {first!r})')
    return tab


def unmarked(source):
    """A cell's source without its first line if that is a tab mark."""
    text = source.lstrip()
    first, _, rest = text.partition('\n')
    return rest if CODE_MARK.match(first.rstrip()) or PROSE_MARK.match(first.rstrip()) else source


def belongs(tab, framework):
    return tab is None or tab in (ALL, framework)


def frameworks_of(nb, where='a notebook'):
    """The frameworks a chapter has a tab for: MXNet always; another one where some code cell
    is marked for it alone."""
    marked = {tab_of(c, where) for c in nb.cells}
    return [f for f in FRAMEWORKS if f == FRAMEWORKS[0] or f in marked]


def positions(nb, framework, where='a notebook'):
    """The indices in ``nb`` of the cells of ``framework``'s notebook, in order."""
    return [i for i, c in enumerate(nb.cells) if belongs(tab_of(c, where), framework)]


def for_framework(nb, framework, where='a notebook'):
    """A copy of ``nb`` with the cells of ``framework`` only, their tab marks removed."""
    if framework not in FRAMEWORKS:
        raise BuildError(f'unknown framework {framework!r}: choose one of {", ".join(FRAMEWORKS)}')
    keep = positions(nb, framework, where)
    cut = copy.deepcopy(nb)
    cut.cells = [cut.cells[i] for i in keep]
    for cell in cut.cells:
        cell.source = unmarked(cell.source)
    return cut


def only(nb, tab, where='a notebook'):
    """A copy of ``nb`` with the shared prose and the code cells marked ``tab`` alone (a
    framework, or ``all``), their tab marks removed: where a tab's own code is taught."""
    cut = copy.deepcopy(nb)
    cut.cells = [c for c in cut.cells if tab_of(c, where) in (None, tab)]
    for cell in cut.cells:
        cell.source = unmarked(cell.source)
    return cut


def tabbed(source, executed, where='a notebook'):
    """The page of a chapter: ``source``'s cells in order, a framework's cell (and its
    outputs) from ``executed[framework]``, tagged ``tab-<framework>`` when the page has more
    than one framework (and ``tab-same`` where it is a cell of all tabs); shared prose once."""
    frameworks = [f for f in FRAMEWORKS if f in executed]
    at = {f: dict(zip(positions(source, f, where), executed[f].cells)) for f in frameworks}
    page = copy.deepcopy(executed[frameworks[0]])
    page.cells = []
    for i, cell in enumerate(source.cells):
        tab = tab_of(cell, where)
        if tab is None:
            page.cells.append(copy.deepcopy(at[frameworks[0]][i]))
            continue
        shown = [f for f in frameworks if belongs(tab, f)]
        for framework in shown:
            cell = copy.deepcopy(at[framework][i])
            if len(frameworks) > 1:  # tab-same: its code is the same in each tab
                cell.metadata.setdefault('tags', []).extend(
                    [f'tab-{framework}'] + (['tab-same'] if tab == ALL else []))
            if framework != shown[0] and cell.get('id'):  # a cell of all tabs, shown again
                cell.id = f'{cell.id}-{framework}'
            page.cells.append(cell)
    return page


# ---- what the site names after a framework ------------------------------------------------

def suffixed(stem, suffix, framework):
    """A file of one framework's tab: ``01_neural_style.ipynb`` for MXNet, the book's first,
    ``01_neural_style.pytorch.ipynb`` for PyTorch (and ``.slides.html`` likewise)."""
    return stem + ('' if framework == FRAMEWORKS[0] else f'.{framework}') + suffix


STORAGE_KEY = 'd2lstyle-framework'  # where a browser remembers the reader's choice


def head_html():
    """What every page's head holds for the tabs: the rule that hides the frameworks not
    chosen, and a script that chooses, before the page is drawn, from ``?framework=`` in the
    address, else the reader's last choice, else the book's first framework."""
    hide = ' '.join(
        f'html[data-framework="{chosen}"] .celltag_tab-{other}, '
        f'html[data-framework="{chosen}"] .d2l-tab-{other} {{display: none !important}}'
        for chosen in FRAMEWORKS for other in FRAMEWORKS if other != chosen)
    labels = json.dumps(LABELS)
    script = (f'window.d2lFrameworks = {labels}; window.d2lFrameworkKey = "{STORAGE_KEY}"; '
              '(function () { var key = window.d2lFrameworkKey, '
              'asked = new URLSearchParams(location.search).get("framework"), chosen = null; '
              'try { chosen = asked in window.d2lFrameworks ? asked : localStorage.getItem(key); '
              'if (asked in window.d2lFrameworks) { localStorage.setItem(key, asked); } } '
              'catch (err) { chosen = asked; } '
              f'if (!(chosen in window.d2lFrameworks)) {{ chosen = "{FRAMEWORKS[0]}"; }} '
              'document.documentElement.setAttribute("data-framework", chosen); }());')
    return f'<style>{hide}</style><script>{script}</script>'
