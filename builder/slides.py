"""A chapter as a reveal.js slide deck (nbconvert's slides exporter), served with the site.

A slide shows what a lecture points at: headings, formulas, short sentences, code and figures.
A markdown cell's long paragraphs go to the speaker notes (press S in the deck), so the slide
keeps its formulas and the instructor keeps the words. Which cells start slides: a cell's own
slideshow setting if it has one (Jupyter's View > Cell Toolbar > Slideshow); else a cell
tagged ``slide`` or ``skip``; else a ``#`` or ``##`` heading starts a slide, a ``###`` heading
a sub-slide, and a cell that would overfill the slide it continues starts a sub-slide below
it. Long text outputs are cut to their first lines, and a long code cell that is not taught
code (such as the one that draws a figure) shows only its output. reveal.js comes from its npm
package, fetched once and checked against its SHA-256 (builder.npm), and travels with the
site, so the decks work offline.
"""
import copy
import re
import shutil
from pathlib import Path

from nbconvert import SlidesExporter
from nbformat.v4 import new_markdown_cell

from builder import ASSETS, write_atomic
from builder.npm import npm_package
from builder.render import MATHJAX_URL, embed_images, site_links

REVEAL_DIR = '_static/reveal.js'  # in the site
SLIDE_LINES = 12  # a longer text output shows its first lines on a slide
SLIDE_CODE_LINES = 25  # a longer cell shows only its output, unless it is taught (#@save) code
SLIDE_TEXT_CHARS = 200  # a longer paragraph of a markdown cell goes to the speaker notes
SLIDE_ROWS = 30  # what fits on a slide, in lines of code; a figure counts as FIGURE_ROWS
FIGURE_ROWS = 18
DISPLAY_MATH = re.compile(r'\$\$.+?\$\$', re.S)


def reveal_folder():
    """The unpacked reveal.js in the cache; fetched with npm (and checked) if missing."""
    return npm_package('reveal.js')


def copy_reveal(out):
    """reveal.js into the site, once."""
    target = Path(out) / REVEAL_DIR
    if not (target / 'dist' / 'reveal.js').exists():
        shutil.copytree(reveal_folder(), target, dirs_exist_ok=True)
        target.chmod(0o755)  # a cache from an older build may hold it private


def split_prose(text):
    """A markdown cell's text as (what the slide shows, what goes to the speaker notes)."""
    shown, notes = [], []
    for block in re.split(r'\n\s*\n', text.strip()):
        if len(block) <= SLIDE_TEXT_CHARS or re.match(r'\s*([#!|<*+-]|\$\$|\d+\. )', block):
            shown.append(block)
        else:  # a long paragraph: its text to the notes, its display formulas stay
            shown.extend(DISPLAY_MATH.findall(block))
            notes.append(block)
    return '\n\n'.join(shown), '\n\n'.join(notes)


def by_heading(cell):
    """A markdown cell cut before each of its ``#`` and ``##`` headings (each starts a slide)."""
    if cell.cell_type != 'markdown' or 'slide_type' in cell.metadata.get('slideshow', {}):
        return [cell]
    parts = re.split(r'\n(?=##? )', cell.source)
    return [cell] if len(parts) == 1 else [
        new_markdown_cell(part, metadata=copy.deepcopy(cell.metadata) if k == 0 else {})
        for k, part in enumerate(parts)]


def rows(cell):
    """About how many lines of a slide ``cell`` fills."""
    if cell.cell_type == 'markdown':
        return cell.source.count('\n') + 1 + 2 * cell.source.count('$$')
    hidden = cell.metadata.get('transient', {}).get('remove_source', False)
    shown = 0 if hidden else cell.source.count('\n') + 1
    for output in cell.get('outputs', []):
        shown += (FIGURE_ROWS if 'image/png' in output.get('data', {}) else
                  min(output.get('text', '').count('\n'), SLIDE_LINES + 1))
    return shown


def chosen_type(cell):
    """The slide type a tag or a heading gives ``cell``; '-' (continue) when neither does."""
    tags = cell.metadata.get('tags', [])
    heading = cell.source.lstrip().split(' ', 1)[0] if cell.cell_type == 'markdown' else ''
    return ('skip' if 'skip' in tags else
            'slide' if 'slide' in tags or heading in ('#', '##') else
            'subslide' if heading == '###' else '-')


def trimmed(cell):
    """``cell`` as a slide shows it: long text outputs cut, and the code of a helper hidden
    when it is long or its figure would not fit beside it (taught code always shows)."""
    lines = cell.source.count('\n') + 1
    figures = sum('image/png' in output.get('data', {}) for output in cell.get('outputs', []))
    if (cell.cell_type == 'code' and not cell.source.startswith('#@save')
            and (lines > SLIDE_CODE_LINES or figures and lines + figures * FIGURE_ROWS > SLIDE_ROWS)):
        cell.metadata.setdefault('transient', {})['remove_source'] = True  # its figure stays
    for output in cell.get('outputs', []):
        lines = output.get('text', '').splitlines()
        if len(lines) > SLIDE_LINES:
            output['text'] = '\n'.join(lines[:SLIDE_LINES] + ['...']) + '\n'
    return cell


def slide_types(nb):
    """A copy of ``nb`` as slides: every cell's slideshow type chosen, long paragraphs moved
    to speaker notes and long outputs cut (see the module's docstring)."""
    nb = copy.deepcopy(nb)
    cells, filled = [], 0
    for cell in [part for cell in nb.cells for part in by_heading(cell)]:
        show = cell.metadata.setdefault('slideshow', {})
        own = 'slide_type' in show
        show.setdefault('slide_type', chosen_type(cell))
        notes = ''
        if cell.cell_type == 'markdown' and not own:
            cell.source, notes = split_prose(cell.source)
        size = rows(trimmed(cell))
        if show['slide_type'] == '-' and filled and filled + size > SLIDE_ROWS and not own:
            show['slide_type'] = 'subslide'  # it would overfill the slide: continue below
        filled = (size if show['slide_type'] in ('slide', 'subslide') else
                  filled + size if show['slide_type'] in ('-', 'fragment') else filled)
        cells.append(cell)
        if notes:
            cells.append(new_markdown_cell(notes, metadata={'slideshow': {'slide_type': 'notes'}}))
    nb.cells = cells
    return nb


def deck_html(nb, path, title):
    """The chapter executed as ``nb`` (from ``path``) as a deck of slides."""
    exporter = SlidesExporter(template_name='slides', mathjax_url=MATHJAX_URL,
                              reveal_url_prefix=REVEAL_DIR, reveal_theme='white',
                              extra_template_basedirs=[str(ASSETS / 'templates')])
    body, _ = exporter.from_notebook_node(site_links(slide_types(nb)),
                                          resources={'metadata': {'name': title}})
    return embed_images(body, path)


def render_deck(nb, path, title, out, name=None):
    """The deck as ``<name>.slides.html`` (by default the chapter's name) in ``out``."""
    write_atomic(Path(out) / f'{name or Path(path).stem}.slides.html', deck_html(nb, path, title))


