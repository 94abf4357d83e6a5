"""builder/tabs.py: one source per chapter, a notebook per framework, and the page that shows
them side by side."""
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from builder import BuildError
from builder.tabs import (for_framework, frameworks_of, head_html, positions, suffixed, tab_of,
                          tabbed, unmarked)


def chapter():
    return new_notebook(cells=[
        new_markdown_cell('# Title\n\nShared prose.'),
        new_code_cell('x = 1  # unmarked: MXNet'),
        new_code_cell('#@tab pytorch\nx = 2'),
        new_markdown_cell('<!-- @tab pytorch -->\nOnly PyTorch says this.'),
        new_code_cell('#@tab all\nprint(x)'),
        new_markdown_cell('More shared prose.'),
    ])


def test_each_cell_belongs_to_the_framework_its_first_line_names():
    nb = chapter()
    assert [tab_of(c) for c in nb.cells] == [None, 'mxnet', 'pytorch', 'pytorch', 'all', None]
    assert frameworks_of(nb) == ['mxnet', 'pytorch']
    assert frameworks_of(new_notebook(cells=[new_code_cell('y = 1')])) == ['mxnet']


def test_a_frameworks_notebook_keeps_its_cells_in_order_without_their_marks():
    nb = chapter()
    mx, pt = for_framework(nb, 'mxnet'), for_framework(nb, 'pytorch')
    assert [c.source for c in mx.cells] == ['# Title\n\nShared prose.', 'x = 1  # unmarked: MXNet',
                                            'print(x)', 'More shared prose.']
    assert [c.source for c in pt.cells] == ['# Title\n\nShared prose.', 'x = 2',
                                            'Only PyTorch says this.', 'print(x)',
                                            'More shared prose.']
    assert positions(nb, 'pytorch') == [0, 2, 3, 4, 5]
    assert len(nb.cells[2].source.splitlines()) == 2  # the source is left as it was
    assert unmarked('#@save\nx = 1') == '#@save\nx = 1'


def test_an_unknown_framework_is_refused_with_the_cell_and_the_choices():
    nb = new_notebook(cells=[new_code_cell('#@tab jax\nx = 1')])
    with pytest.raises(BuildError, match=r"01_a.ipynb: a cell is marked for the framework 'jax'; "
                                         r"mark it mxnet, pytorch or all"):
        frameworks_of(nb, '01_a.ipynb')
    with pytest.raises(BuildError, match='unknown framework'):
        for_framework(chapter(), 'jax')


def executed(nb, framework):
    """``framework``'s notebook of ``nb``, each code cell printing where it ran."""
    run = for_framework(nb, framework)
    for cell in run.cells:
        if cell.cell_type == 'code':
            cell.outputs = [new_output('stream', name='stdout', text=f'{framework}: {cell.source}')]
    return run


def test_the_page_shows_shared_prose_once_and_each_frameworks_cells_with_their_outputs():
    nb = chapter()
    page = tabbed(nb, {'mxnet': executed(nb, 'mxnet'), 'pytorch': executed(nb, 'pytorch')})
    shown = [(c.source, c.metadata.get('tags', []), [o.text for o in c.get('outputs', [])])
             for c in page.cells]
    assert shown == [
        ('# Title\n\nShared prose.', [], []),
        ('x = 1  # unmarked: MXNet', ['tab-mxnet'], ['mxnet: x = 1  # unmarked: MXNet']),
        ('x = 2', ['tab-pytorch'], ['pytorch: x = 2']),
        ('Only PyTorch says this.', ['tab-pytorch'], []),
        ('print(x)', ['tab-mxnet', 'tab-same'], ['mxnet: print(x)']),  # each one's own run
        ('print(x)', ['tab-pytorch', 'tab-same'], ['pytorch: print(x)']),
        ('More shared prose.', [], []),
    ]
    alone = tabbed(nb, {'mxnet': executed(nb, 'mxnet')})  # no tabs: no tags
    assert [c.metadata.get('tags', []) for c in alone.cells] == [[]] * 4


def test_the_frameworks_files_and_the_head_that_chooses_before_the_page_is_drawn():
    assert suffixed('01_a', '.ipynb', 'mxnet') == '01_a.ipynb'
    assert suffixed('01_a', '.slides.html', 'pytorch') == '01_a.pytorch.slides.html'
    head = head_html()
    assert 'html[data-framework="mxnet"] .celltag_tab-pytorch' in head
    assert 'html[data-framework="pytorch"] .celltag_tab-mxnet' in head
    assert 'localStorage' in head and 'URLSearchParams' in head
