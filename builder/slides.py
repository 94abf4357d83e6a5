"""A chapter as a reveal.js slide deck (nbconvert's slides exporter), served with the site.

Which cells become slides: a cell's own slideshow setting if it has one (Jupyter's View >
Cell Toolbar > Slideshow); else a cell tagged ``slide`` or ``skip``; else a ``#`` or ``##``
heading starts a slide, a ``###`` heading a sub-slide, and every other cell continues the
slide before it. Long text outputs are cut to their first lines, and a long code cell that is
not taught code (such as the one that draws a figure) shows only its output. reveal.js comes from its npm
package, fetched once by ``python -m builder.slides`` (``make book`` runs it) and checked
against its SHA-256, and travels with the site, so the decks work offline.
"""
import copy
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from nbconvert import SlidesExporter

from builder import ASSETS, BuildError, write_atomic
from builder.render import MATHJAX_URL, embed_images, site_links
from d2lstyle.weights import cache_dir, sha256

REVEAL = 'reveal.js@4.6.1'
REVEAL_SHA256 = '4f4121ef2b8e7e9398bdecd7b3b6ce5e0ee3a2f5af221708eb6c4ce03bcae6be'
# What a deck loads, relative to the package; its fonts come with the theme
REVEAL_FILES = ('LICENSE', 'dist/reveal.css', 'dist/reveal.js', 'dist/theme/white.css',
                'dist/theme/fonts/source-sans-pro', 'plugin/notes/notes.js')
REVEAL_DIR = '_static/reveal.js'  # in the site
SLIDE_LINES = 12  # a longer text output shows its first lines on a slide
SLIDE_CODE_LINES = 25  # a longer cell shows only its output, unless it is taught (#@save) code


def reveal_folder():
    """The unpacked reveal.js in the cache; fetched with npm (and checked) if missing."""
    folder = cache_dir() / REVEAL.replace('@', '-')
    if (folder / 'dist' / 'reveal.js').exists():
        return folder
    with tempfile.TemporaryDirectory() as tmp:
        try:
            done = subprocess.run(['npm', 'pack', REVEAL, '--silent', '--pack-destination', tmp],
                                  capture_output=True, text=True, timeout=300)
        except FileNotFoundError:
            raise BuildError(f'npm not found: it fetches {REVEAL} for the slides once; install '
                             'Node.js and npm (apt-get install npm) and build again') from None
        archives = list(Path(tmp).glob('*.tgz'))
        if done.returncode or not archives:
            raise BuildError(f'npm pack {REVEAL} failed ({done.stderr.strip()[-300:]}); check '
                             'the connection to the npm registry and build again')
        digest = sha256(archives[0])
        if digest != REVEAL_SHA256:
            raise BuildError(f'{REVEAL} from npm has SHA-256 {digest}, not {REVEAL_SHA256}; '
                             'refusing it')
        with tarfile.open(archives[0]) as archive:
            archive.extractall(tmp, filter='data')
        part = Path(tempfile.mkdtemp(dir=cache_dir(), prefix='.reveal.'))
        for name in REVEAL_FILES:
            source, target = Path(tmp) / 'package' / name, part / name
            target.parent.mkdir(parents=True, exist_ok=True)
            (shutil.copytree if source.is_dir() else shutil.copyfile)(source, target)
        part.replace(folder)
    return folder


def copy_reveal(out):
    """reveal.js into the site, once."""
    target = Path(out) / REVEAL_DIR
    if not (target / 'dist' / 'reveal.js').exists():
        shutil.copytree(reveal_folder(), target, dirs_exist_ok=True)


def slide_types(nb):
    """A copy of ``nb`` with every cell's slideshow type chosen (see the module's docstring),
    long text outputs cut and long helper code hidden."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        tags = cell.metadata.get('tags', [])
        show = cell.metadata.setdefault('slideshow', {})
        if 'slide_type' not in show:
            heading = cell.source.lstrip().split(' ', 1)[0] if cell.cell_type == 'markdown' else ''
            show['slide_type'] = ('skip' if 'skip' in tags else
                                  'slide' if 'slide' in tags or heading in ('#', '##') else
                                  'subslide' if heading == '###' else '-')
        if (cell.cell_type == 'code' and cell.source.count('\n') >= SLIDE_CODE_LINES
                and not cell.source.startswith('#@save')):
            cell.metadata.setdefault('transient', {})['remove_source'] = True  # its figure stays
        for output in cell.get('outputs', []):
            lines = output.get('text', '').splitlines()
            if len(lines) > SLIDE_LINES:
                output['text'] = '\n'.join(lines[:SLIDE_LINES] + ['...']) + '\n'
    return nb


def deck_html(nb, path, title):
    """The chapter executed as ``nb`` (from ``path``) as a deck of slides."""
    exporter = SlidesExporter(template_name='slides', mathjax_url=MATHJAX_URL,
                              reveal_url_prefix=REVEAL_DIR, reveal_theme='white',
                              extra_template_basedirs=[str(ASSETS / 'templates')])
    body, _ = exporter.from_notebook_node(site_links(slide_types(nb)),
                                          resources={'metadata': {'name': title}})
    return embed_images(body, path)


def render_deck(nb, path, title, out):
    write_atomic(Path(out) / f'{Path(path).stem}.slides.html', deck_html(nb, path, title))


if __name__ == '__main__':
    try:
        print(f'{REVEAL}: {reveal_folder()}')
    except BuildError as err:
        sys.exit(f'builder.slides: {err}')
