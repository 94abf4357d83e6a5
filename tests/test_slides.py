"""builder/slides.py: which cells become slides, and what a slide shows."""
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from builder.slides import SLIDE_CODE_LINES, SLIDE_LINES, slide_types


def kinds(nb):
    return [cell.metadata.slideshow['slide_type'] for cell in slide_types(nb).cells]


def test_headings_start_slides_and_tags_or_jupyters_choice_win():
    nb = new_notebook(cells=[
        new_markdown_cell('# Title'), new_code_cell('x = 1'), new_markdown_cell('## Section'),
        new_markdown_cell('text'), new_markdown_cell('### Detail'),
        new_code_cell('y = 2', metadata={'tags': ['skip']}),
        new_markdown_cell('next idea', metadata={'tags': ['slide']}),
        new_markdown_cell('## chosen', metadata={'slideshow': {'slide_type': 'fragment'}})])
    assert kinds(nb) == ['slide', '-', 'slide', '-', 'subslide', 'skip', 'slide', 'fragment']
    assert 'slideshow' not in nb.cells[0].metadata  # the notebook itself is left alone


def test_a_slide_cuts_long_outputs_and_hides_long_helper_code_but_not_taught_code():
    log = '\n'.join(f'step {i}' for i in range(SLIDE_LINES + 5)) + '\n'
    helper = '\n'.join(f'line{i} = {i}' for i in range(SLIDE_CODE_LINES + 1))
    nb = new_notebook(cells=[
        new_code_cell('train()', outputs=[new_output('stream', name='stdout', text=log)]),
        new_code_cell(helper), new_code_cell('#@save\n' + helper), new_code_cell('short = 1')])
    cells = slide_types(nb).cells
    assert cells[0].outputs[0].text.splitlines() == log.splitlines()[:SLIDE_LINES] + ['...']
    hidden = [c.metadata.get('transient', {}).get('remove_source', False) for c in cells]
    assert hidden == [False, True, False, False]
