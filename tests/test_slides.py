"""builder/slides.py: which cells become slides, and what a slide shows."""
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from builder.slides import (FIGURE_ROWS, SLIDE_CODE_LINES, SLIDE_LINES, SLIDE_ROWS,
                            SLIDE_TEXT_CHARS, slide_types)


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


def figure_output():
    return new_output('display_data', data={'image/png': 'iVBORw0KGgo=', 'text/plain': 'fig'})


def test_long_paragraphs_go_to_the_speaker_notes_and_their_formulas_stay_on_the_slide():
    prose = 'word ' * (SLIDE_TEXT_CHARS // 5 + 1)
    text = (f'## Losses\n\nShort lead.\n\n{prose}\n$$L = \\sum_l E_l$$\nmore {prose}\n\n'
            '* a point\n* another point that is listed\n\n$$G = XX^T$$')
    cells = slide_types(new_notebook(cells=[new_markdown_cell(text)])).cells
    assert [c.metadata.slideshow['slide_type'] for c in cells] == ['slide', 'notes']
    shown, notes = cells[0].source, cells[1].source
    assert shown.split('\n\n') == ['## Losses', 'Short lead.', '$$L = \\sum_l E_l$$',
                                     '* a point\n* another point that is listed', '$$G = XX^T$$']
    assert notes.startswith(prose.strip()) and 'more word' in notes and 'Short lead' not in notes


def test_a_heading_inside_a_cell_starts_its_own_slide():
    nb = new_notebook(cells=[new_markdown_cell('closing words\n\n## Summary\n\n* one\n\n'
                                               '## Exercises\n\n1. try')])
    cells = slide_types(nb).cells
    assert [(c.metadata.slideshow['slide_type'], c.source.split('\n')[0]) for c in cells] == [
        ('-', 'closing words'), ('slide', '## Summary'), ('slide', '## Exercises')]


def test_a_cell_that_would_overfill_its_slide_continues_on_a_sub_slide_below():
    code = '\n'.join(f'x{i} = {i}' for i in range(SLIDE_ROWS // 2))
    nb = new_notebook(cells=[new_markdown_cell('## Section'), new_code_cell(code),
                             new_code_cell(code), new_code_cell('y = 1'),
                             new_code_cell(code, metadata={'slideshow': {'slide_type': '-'}})])
    assert kinds(nb) == ['slide', '-', 'subslide', '-', '-']  # Jupyter's own choice still wins


def test_a_helpers_code_gives_way_to_its_figure_but_taught_code_always_shows():
    lines = SLIDE_ROWS - FIGURE_ROWS + 1
    code = '\n'.join(f'x{i} = {i}' for i in range(lines))
    cells = slide_types(new_notebook(cells=[
        new_code_cell(code, outputs=[figure_output()]), new_code_cell(code),
        new_code_cell('#@save\n' + code, outputs=[figure_output()])])).cells
    hidden = [c.metadata.get('transient', {}).get('remove_source', False) for c in cells]
    assert hidden == [True, False, False]
