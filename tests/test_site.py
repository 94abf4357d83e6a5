"""builder/site.py: the site around the chapters' pages, read as HTML and seen in a browser.

The first tests read the pages of a small book's site. The others, marked ``browser``, open a
site in headless Chromium (Debian's) driven by Playwright: one built from small synthetic
notebooks (seconds: a formula, an image, a long output, a gallery tag) and, in the slow run, the
real book (_build/site, whose chapters the execution cache shares with test_book.py, so they run
once per test run). Without /usr/bin/chromium they skip, except in CI (CI=true), where they fail.
"""
import base64
import functools
import http.server
import io
import os
import re
import subprocess
import sys
import threading
import urllib.error
import urllib.request
import zipfile
from urllib.parse import unquote, urldefrag, urlparse

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_output
from PIL import Image, ImageStat

import build
from builder import ASSETS, BUILD, ROOT
from builder.notebooks import check_clean, find_chapters
from builder.render import FOLD_LINES
from builder.config import Book
from builder.pdf import BOOK_PDF, CHROMIUM, PRINT_HTML
from builder.site import (BOOK_FOLDER, BOOK_ZIP, Contents, book_zip, chapter_page, files_beside,
                          outline)
from conftest import BOOK_BUILD, DOT, make_book, notebook

in_browser = pytest.mark.browser

# ---- a small book's site, read as HTML ----------------------------------------------------

CHAPTERS = [('01_a', 'First steps'), ('02_b', 'Gram <matrices>'), ('03_c', 'Third')]


@pytest.fixture
def small_site(book):
    """The site of three chapters, each printing a number and showing ../img/dot.png."""
    for i, (name, title) in enumerate(CHAPTERS):
        cells = [f'print({i} * 1000 + 42)', new_markdown_cell('![dot](../img/dot.png)')]
        if i == 0:
            cells.insert(0, '#@save\ndef answer():\n    return 42')
        notebook(book / 'chapters', name, *cells, title=title)
    build.main(['--out', str(book / 'site')], root=book)
    return book / 'site'


def escaped(title):
    return title.replace('<', '&lt;').replace('>', '&gt;')


def nav_links(page):
    bars = re.findall(r'<nav class="d2l-nav">(.*?)</nav>', page, re.S)
    assert len(bars) == 2 and bars[0] == bars[1]  # above and below the chapter
    return re.findall(r'href="([^"]+)"', bars[0])


def test_index_lists_the_chapters_in_order_with_their_titles(small_site):
    out = small_site
    index = (out / 'index.html').read_text()
    assert Book().title in index
    positions = [index.index(f'<a href="{name}.html">{escaped(title)}</a>')
                 for name, title in CHAPTERS]
    assert positions == sorted(positions)
    assert 'href="credits.html"' in index
    assert 'public domain' in (out / 'credits.html').read_text()


def test_the_front_page_has_the_preface_and_each_chapter_with_its_summary_and_result(book):
    (book / 'chapters' / 'preface.md').write_text('## Preface\n\nWho this is *for*.\n')
    show = ('import base64\nfrom IPython.display import Image, display\n'
            f'display(Image(data=base64.b64decode({base64.b64encode(DOT).decode()!r})))')
    shows = notebook(book / 'chapters', '01_a', show, title='Shows')
    nb = nbformat.read(shows, as_version=4)
    nb.metadata['summary'] = 'It shows a dot & says so.'
    nbformat.write(nb, shows)
    notebook(book / 'chapters', '02_b', 'print(1)', title='Prints')
    build.main(['--out', str(book / 'site')], root=book)
    index = (book / 'site' / 'index.html').read_text()
    assert index.index('Who this is <em>for</em>.') < index.index('<h2>Chapters</h2>')
    cards = re.findall(r'<li>(.*?)</li>', index.split('<h2>Chapters</h2>')[1], re.S)
    assert len(cards) == 2
    assert 'src="gallery/01_a-thumb.jpg"' in cards[0] and 'It shows a dot &amp; says so.' in cards[0]
    assert Image.open(book / 'site' / 'gallery' / '01_a-thumb.jpg').size == (1, 1)
    assert '<img' not in cards[1] and '<p>' not in cards[1]  # no result, no summary: no gaps


def test_chapter_pages_link_to_existing_neighbours_and_a_clean_notebook(small_site):
    out = small_site
    for i, (name, title) in enumerate(CHAPTERS):
        page = (out / f'{name}.html').read_text()
        links = nav_links(page)
        assert all((out / link).exists() for link in links), links
        previous = [f'{CHAPTERS[i - 1][0]}.html'] if i else []
        following = [f'{CHAPTERS[i + 1][0]}.html'] if i + 1 < len(CHAPTERS) else []
        assert links == previous + ['index.html', f'{name}.slides.html', f'{name}.ipynb',
                                    'credits.html'] + following
        assert 'Download notebook' in page
        assert str(i * 1000 + 42) in page  # the executed output is on the page
        assert f'src="data:image/png;base64,{base64.b64encode(DOT).decode()}"' in page
        assert f'<title>{escaped(title)}</title>' in page
        assert not re.search(r'<script src="https?://', page)  # nothing from a CDN
        copy = nbformat.read(out / f'{name}.ipynb', as_version=4)
        assert check_clean(out / f'{name}.ipynb') == [] and len(copy.cells) >= 3
    assert (out / 'mathjax' / 'MathJax.js').exists()  # formulas render offline
    assert not [p for p in out.iterdir() if p.name.startswith('.')]  # no temporary leftovers


def test_chapter_pages_have_the_book_sidebar_and_their_own_outline(small_site):
    out = small_site
    page = (out / '02_b.html').read_text()
    bar = re.search(r'<nav [^>]*class="d2l-sidebar".*?</nav>', page, re.S).group(0)
    assert re.findall(r'<a [^>]*href="(\d\d_\w)\.html"', bar) == [name for name, _ in CHAPTERS]
    assert re.findall(r'<a [^>]*aria-current="page"[^>]*>', bar) == [
        '<a aria-current="page" href="02_b.html">']  # (nbconvert sorts the attributes)
    for target in ('gallery.html', 'credits.html', BOOK_ZIP, 'index.html'):
        assert f'href="{target}"' in bar and (out / target).exists()
    assert '_static/book.css' in page and '_static/book.js' in page
    assert (out / '_static' / 'book.js').read_text() == (ASSETS / 'book.js').read_text()


def test_the_outline_lists_h2_and_h3_without_their_pilcrows(book):
    path = notebook(book / 'chapters', '01_a', new_markdown_cell(
        '## Gram *matrices*\n\ntext\n\n### The loss, $L$\n\n#### too deep'))
    body = chapter_page(nbformat.read(path, 4), path, Contents(Book(), [('01_a', 'A')]), 0)
    bar = re.search(r'<nav [^>]*class="d2l-sidebar".*?</nav>', body, re.S).group(0)
    items = re.findall(r'<li class="d2l-h(\d)"><a href="#([^"]+)">(.*?)</a>', bar)
    assert [(level, text) for level, _, text in items] == [
        ('2', 'Gram matrices'), ('3', 'The loss, $L$')]
    assert all(f'id="{anchor}"' in body for _, anchor, _ in items)
    assert outline('<h1 id="x">Only a title</h1>') == ''


def test_gallery_takes_the_tagged_cells_else_the_last_image(book):
    notebook(book / 'chapters', '01_tagged', image_cell(SHOW_DOT, ['gallery']),
             image_cell(SHOW_DOT + '\ndisplay(Image(data=' + repr(DOT) + ', format="png"))',
                        ['gallery', 'other']), image_cell(SHOW_DOT))
    notebook(book / 'chapters', '02_plain', image_cell(SHOW_DOT), image_cell(SHOW_DOT))
    notebook(book / 'chapters', '03_none', 'print(1)')
    build.main(['--out', str(book / 'site')], root=book)
    out = book / 'site'
    gallery = (out / 'gallery.html').read_text()
    shown = re.findall(r'<a href="([^"#]+)#cell-id=([^"]+)"><img src="([^"]+)"', gallery)
    tagged = [c for c in nbformat.read(book / '_build/executed/quick/01_tagged.ipynb', 4).cells
              if 'gallery' in c.metadata.get('tags', [])]
    last = nbformat.read(book / '_build/executed/quick/02_plain.ipynb', 4).cells[-1]
    assert [(page, cell) for page, cell, _ in shown] == [
        ('01_tagged.html', tagged[0].id), ('01_tagged.html', tagged[1].id),
        ('01_tagged.html', tagged[1].id), ('02_plain.html', last.id)]
    for page, cell, image in shown:
        assert (out / image).read_bytes() == DOT
        assert f'id="cell-id={cell}"' in (out / page).read_text()  # the link lands on it
    assert 'href="gallery.html"' in (out / '01_tagged.html').read_text()


def image_cell(code, tags=()):
    cell = new_code_cell(code)
    if tags:
        cell.metadata['tags'] = list(tags)
    return cell


SHOW_DOT = ('from IPython.display import Image, display\n'
            f'display(Image(data={DOT!r}, format="png"))')


def test_the_book_zip_holds_what_the_chapters_need_and_is_reproducible(book):
    (book / 'd2lstyle' / 'notes.txt').write_text('not a module')
    (book / 'd2lstyle' / 'mxnet').mkdir()
    (book / 'd2lstyle' / 'mxnet' / '__init__.py').write_text('')  # the generated code
    (book / 'benchmarks').mkdir()
    (book / 'benchmarks' / 'step.json').write_text('{}')
    (book / 'benchmarks' / 'step.py').write_text('not for readers')
    (book / 'requirements.txt').write_text('mxnet==1.9.1\n')
    notebook(book / 'chapters', '01_a', "open('../img/dot.png').read()",
             new_markdown_cell("Text that quotes '../img/none.png' is not a file the code reads."))
    nb = nbformat.read(book / 'chapters' / '01_a.ipynb', 4)
    nb.cells[1].outputs = [new_output('stream', text='ran')]
    nbformat.write(nb, book / 'chapters' / '01_a.ipynb')
    data = book_zip(book)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.namelist() == [f'{BOOK_FOLDER}/{name}' for name in [
            'README.md', 'requirements.txt', 'chapters/01_a.ipynb', 'd2lstyle/__init__.py',
            'd2lstyle/frameworks.py', 'd2lstyle/mxnet/__init__.py', 'd2lstyle/profiles.py',
            'img/CREDITS.md', 'img/dot.png', 'benchmarks/step.json']]
        assert archive.read(f'{BOOK_FOLDER}/d2lstyle/profiles.py') == b'x = 1\n'
        assert 'Python 3.10 or 3.11' in archive.read(f'{BOOK_FOLDER}/README.md').decode()
        chapter = nbformat.reads(archive.read(f'{BOOK_FOLDER}/chapters/01_a.ipynb').decode(), 4)
        assert check_clean(book / 'chapters' / '01_a.ipynb') != []
        assert chapter.cells[1].outputs == []  # stripped in the download
        assert files_beside(chapter) == ['img/dot.png']
    os.utime(book / 'd2lstyle' / 'profiles.py', (0, 0))
    assert book_zip(book) == data


def test_the_pytorch_download_holds_its_tabs_own_chapters_package_and_set_up(book):
    (book / 'd2lstyle' / 'mxnet').mkdir()
    (book / 'd2lstyle' / 'mxnet' / '__init__.py').write_text('import mxnet')
    (book / 'd2lstyle' / 'torch').mkdir()
    (book / 'd2lstyle' / 'torch' / '__init__.py').write_text('import torch')
    (book / 'requirements-pytorch.txt').write_text('torch==2.13.0\n')
    notebook(book / 'chapters', '01_a', 'x = 1', '#@tab pytorch\nx = 2')
    notebook(book / 'chapters', '02_b', 'y = 1')  # no PyTorch tab: not in its download
    with zipfile.ZipFile(io.BytesIO(book_zip(book, framework='pytorch'))) as archive:
        assert archive.namelist() == [f'{BOOK_FOLDER}/{name}' for name in [
            'README.md', 'requirements-pytorch.txt', 'chapters/01_a.ipynb',
            'd2lstyle/__init__.py', 'd2lstyle/frameworks.py', 'd2lstyle/profiles.py',
            'd2lstyle/torch/__init__.py', 'img/CREDITS.md', 'img/dot.png']]
        readme = archive.read(f'{BOOK_FOLDER}/README.md').decode()
        assert 'python3.12 -m venv' in readme and 'no MXNet' in readme
        chapter = nbformat.reads(archive.read(f'{BOOK_FOLDER}/chapters/01_a.ipynb').decode(), 4)
        assert [c.source for c in chapter.cells[1:]] == ['x = 2']


def test_a_chapter_page_says_what_its_notebook_needs_beside_it(book):
    path = notebook(book / 'chapters', '01_a', "x = read('../img/dot.png')\ny = '../benchmarks/a.json'")
    body = chapter_page(nbformat.read(path, 4), path, Contents(Book(), [('01_a', 'A')]), 0)
    line = re.search(r'<p class="d2l-needs d2l-tab-mxnet">(.*?)</p>', body, re.S).group(1)
    assert f'href="{BOOK_ZIP}"' in line and '<code>chapters/01_a.ipynb</code>' in line
    assert '<code>img/dot.png</code>, <code>benchmarks/a.json</code>' in line
    missing = re.search(r'<p class="d2l-needs d2l-missing d2l-tab-pytorch">(.*?)</p>', body).group(1)
    assert missing == "This chapter has no PyTorch tab yet: its code is MXNet's."
    both = chapter_page(nbformat.read(path, 4), path, Contents(Book(), [('01_a', 'A')]), 0,
                        ['mxnet', 'pytorch'])
    line = re.search(r'<p class="d2l-needs d2l-tab-pytorch">(.*?)</p>', both, re.S).group(1)
    assert 'href="d2lstyle-book-pytorch.zip"' in line and 'd2l-missing' not in both


# ---- in a browser -------------------------------------------------------------------------

# No network, no first-run or background chatter: the site must work offline.
CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
                 '--disable-background-networking', '--disable-component-update',
                 '--disable-sync']
DESKTOP = {'width': 1280, 'height': 800}
PHONE = {'width': 390, 'height': 844}
PROJECTOR = {'width': 1920, 'height': 1080}
SHOTS = ROOT / BUILD / 'screenshots'  # kept, to look at

GRADIENT = ('from PIL import Image\n'
            'ramp = Image.linear_gradient("L").resize((320, 200))\n'
            'Image.merge("RGB", (ramp, ramp.transpose(Image.Transpose.ROTATE_90).resize((320, 200)),'
            ' Image.new("L", (320, 200), 90)))')


def synthetic_book(root):
    """Two chapters with what the site must handle: formulas, images, a long log, a tag."""
    make_book(root)
    first = [new_markdown_cell('## The loss\n\nContent loss $L_c = \\frac{1}{2}\\sum (F - P)^2$, '
                               'and displayed:\n\n$$G_{ij} = \\sum_k F_{ik} F_{jk}$$\n\n'
                               '![dot](../img/dot.png)\n\n' + 'A paragraph long enough for the '
                               'speaker notes rather than the slide. ' * 5),
             '#@save\ndef gram(x):\n    return x @ x.T',
             '#@tab pytorch\n#@save\ndef gram(x):\n    return x.matmul(x.T)',
             new_markdown_cell('<!-- @tab pytorch -->\nOnly the PyTorch tab says this.'),
             '#@tab all\nprint("this cell runs in each tab")',
             new_markdown_cell('### A long training log'),
             'for epoch in range(200):\n    print(f"epoch {epoch}, loss {1 / (epoch + 1):.4f}")',
             new_markdown_cell('## The result'),
             new_code_cell(GRADIENT, metadata={'tags': ['gallery']})]
    notebook(root / 'chapters', '01_first', *first, title='First: the loss $L$')
    notebook(root / 'chapters', '02_second', new_markdown_cell('## More\n\n$x^2$ again.'),
             'print("a very long line " * 40)', GRADIENT, title='Second')
    return root


@pytest.fixture(scope='module', params=['synthetic', pytest.param('book', marks=pytest.mark.slow)])
def site(request, tmp_path_factory):
    """(folder, chapter names) of a built site."""
    if request.param == 'synthetic':
        root = synthetic_book(tmp_path_factory.mktemp('book'))
        build.main(['--out', str(root / 'site')], root=root)
        return root / 'site', ['01_first', '02_second']
    # The real book: cached chapters if test_book.py (or make book) ran them already.
    done = subprocess.run([sys.executable, *BOOK_BUILD], cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    return ROOT / BUILD / 'site', [p.stem for p in find_chapters()]


@pytest.fixture(scope='module')
def server(site):
    """The site over HTTP on 127.0.0.1 (an ephemeral port), as a reader would get it."""
    folder, _ = site

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(
        ('127.0.0.1', 0), functools.partial(Quiet, directory=str(folder)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f'http://127.0.0.1:{httpd.server_address[1]}/'
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope='module')
def browser():
    ci = os.environ.get('CI') == 'true'
    if not CHROMIUM.exists():
        message = f'{CHROMIUM} is missing (apt-get install chromium, or make browser)'
        if ci:
            pytest.fail(message + ': CI must run the browser tests')
        pytest.skip(message)
    sync_api = pytest.importorskip('playwright.sync_api') if not ci else \
        __import__('playwright.sync_api').sync_api
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def open_page(browser, server):
    """open_page(path, viewport) -> (page, console errors); pages close after the test."""
    contexts = []

    def opener(path, viewport=DESKTOP):
        context = browser.new_context(viewport=viewport)
        context.grant_permissions(['clipboard-read', 'clipboard-write'], origin=server.rstrip('/'))
        contexts.append(context)
        page = context.new_page()
        errors = []
        page.on('console', lambda msg: errors.append(msg.text) if msg.type == 'error' else None)
        page.on('pageerror', lambda err: errors.append(str(err)))
        page.on('requestfailed', lambda req: errors.append(f'{req.url}: {req.failure}'))
        page.goto(server + path, wait_until='load')
        wait_for_mathjax(page)
        return page, errors
    yield opener
    for context in contexts:
        context.close()


def wait_for_mathjax(page):
    """Until MathJax has typeset the page (chapter pages only load it)."""
    if page.evaluate('() => !!document.querySelector("script[src*=\'MathJax.js\']")'):
        page.wait_for_function('() => window.MathJax && MathJax.Hub', timeout=30_000)
        page.evaluate('() => new Promise(done => MathJax.Hub.Register.StartupHook("End", done))')


def pages_of(site):
    folder, _ = site
    return sorted(p.name for p in folder.glob('*.html'))


# ---- the slides ---------------------------------------------------------------------------

@in_browser
def test_a_chapter_deck_opens_advances_and_typesets_its_formulas(site, open_page):
    folder, chapters = site
    assert f'href="{chapters[0]}.slides.html"' in (folder / f'{chapters[0]}.html').read_text()
    page, errors = open_page(f'{chapters[0]}.slides.html')
    page.wait_for_function('() => window.Reveal && Reveal.isReady()')
    assert page.evaluate('() => Reveal.getTotalSlides()') >= 2  # its ## headings start slides
    before = page.evaluate('() => JSON.stringify(Reveal.getIndices())')
    page.keyboard.press('ArrowRight')
    page.wait_for_function(f'() => JSON.stringify(Reveal.getIndices()) !== {before!r}')
    assert page.locator('.MathJax, .MathJax_Display').count() > 0  # typeset, not TeX
    shown = page.evaluate('() => document.querySelector(".reveal .slides").innerText')
    assert '$' not in shown and '\\frac' not in shown
    assert page.locator('aside.notes').count() > 0  # the long paragraphs, for the speaker
    assert errors == []


def test_every_link_is_relative_so_the_site_works_from_any_address_and_subfolder(site):
    folder, _ = site
    for path in sorted(folder.glob('*.html')):
        for attribute, url in re.findall(r'\b(href|src)="([^"]*)"', path.read_text()):
            scheme = urlparse(url).scheme
            assert scheme in ('', 'data', 'https', 'http', 'mailto'), (path.name, url)
            if not scheme:
                assert not url.startswith('/'), (path.name, url)  # from the host's root
                assert '..' not in url.split('/'), (path.name, url)  # out of the site


# ---- the PDF -----------------------------------------------------------------------------

@in_browser
def test_the_book_prints_as_one_pdf_with_a_title_page_contents_and_chapters_in_order(tmp_path):
    root = synthetic_book(tmp_path)
    (root / 'book.toml').write_text('title = "Printed <Book>"\ncourse = "CS 1"\n'
                                    'chapters = ["02_second", "01_first"]\n')
    # a process of its own: the browser fixture's event loop may be running in this one
    done = subprocess.run([sys.executable, '-c', 'import sys, build; from pathlib import Path; '
                           'build.main(sys.argv[2:], root=Path(sys.argv[1]))', str(root),
                           '--out', str(root / 'site'), '--pdf'], cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    document = (root / 'site' / PRINT_HTML).read_text()
    order = [document.index(marker) for marker in (
        '<section class="d2l-titlepage"><h1>Printed &lt;Book&gt;</h1><p>CS 1</p>',
        '<nav class="d2l-print-toc">', 'id="chapter-02_second"', 'id="chapter-01_first"')]
    assert order == sorted(order)
    assert re.findall(r'<li><a href="#chapter-(\w+)">', document) == ['02_second', '01_first']
    pdf = (root / 'site' / BOOK_PDF).read_bytes()
    assert pdf.startswith(b'%PDF-')
    pages = len(re.findall(rb'/Type\s*/Page[^s]', pdf))
    assert pages >= 4, pages  # the title page, the contents, a page or more per chapter
    assert f'href="{BOOK_PDF}"' in (root / 'site' / 'index.html').read_text()


# ---- every page -------------------------------------------------------------------------

@in_browser
def test_every_page_loads_without_console_errors_and_with_its_images(site, open_page):
    for name in pages_of(site):
        page, errors = open_page(name)
        assert errors == [], (name, errors)
        sizes = page.eval_on_selector_all(
            'img', 'imgs => imgs.map(i => [i.currentSrc.slice(0, 60), i.complete, i.naturalWidth])')
        broken = [src for src, complete, width in sizes if not complete or width == 0]
        # the gallery loads lazily: scroll so that every image is fetched
        if broken:
            page.evaluate('() => document.querySelectorAll("img").forEach(i => i.loading = "eager")')
            page.wait_for_function('() => [...document.images].every(i => i.complete)')
            sizes = page.eval_on_selector_all('img', 'imgs => imgs.map(i => [i.src.slice(0, 60), i.naturalWidth])')
            broken = [src for src, width in sizes if width == 0]
        assert broken == [], (name, broken)


@in_browser
def test_formulas_are_typeset_and_no_raw_tex_is_left(site, open_page):
    _, chapters = site
    for name in chapters:
        page, _ = open_page(f'{name}.html')
        typeset = page.eval_on_selector_all('.MathJax, .MathJax_Display, .MathJax_CHTML',
                                            'nodes => nodes.length')
        assert typeset > 0, name
        assert 'Math Processing Error' not in page.inner_text('body')
        # the prose without code, whose $ are not math, and without MathJax's own copies
        prose = page.evaluate('''() => [...document.querySelectorAll(
            '.jp-MarkdownOutput, .d2l-sidebar')].map(node => {
                const copy = node.cloneNode(true);
                copy.querySelectorAll('code, pre, script, .MathJax_Preview').forEach(n => n.remove());
                return copy.textContent; }).join('\\n')''')
        raw = re.findall(r'\$\$?[^$\s][^$]*\$', prose)
        assert raw == [], (name, raw[:5])


@in_browser
def test_every_internal_link_resolves(site, server, open_page):
    checked = {}
    for name in pages_of(site):
        page, _ = open_page(name)
        urls = page.evaluate('''() => [
            ...[...document.querySelectorAll('a[href]')].map(a => a.href),
            ...[...document.querySelectorAll('img[src], script[src]')].map(e => e.src),
            ...[...document.querySelectorAll('link[href]')].map(l => l.href)]''')
        for url in urls:
            if not url.startswith(server):
                assert urlparse(url).scheme in ('data', 'https', 'http', 'mailto'), url
                assert not url.startswith('http://127.0.0.1'), url
                continue
            target, fragment = urldefrag(url)
            if target not in checked:
                checked[target] = fetch(target)
            status, body = checked[target]
            assert status == 200, (name, url)
            if fragment.startswith('/') and target.endswith('.slides.html'):
                continue  # reveal.js's own route to a slide (#/3/1), not an element's id
            if fragment and target.endswith('.html'):
                ids = {fragment, unquote(fragment)}
                assert any(f'id="{i}"' in body for i in ids), (name, url)
    assert any(url.endswith('.ipynb') for url in checked)
    assert any(url.endswith(BOOK_ZIP) for url in checked)


def fetch(url):
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read().decode(errors='replace')
    except urllib.error.HTTPError as err:
        return err.code, ''


@in_browser
def test_phone_pages_do_not_scroll_sideways(site, open_page):
    for name in pages_of(site):
        page, _ = open_page(name, PHONE)
        width = page.evaluate('() => [document.documentElement.scrollWidth, window.innerWidth]')
        assert width[0] <= width[1], (name, width)


# ---- the chapters -----------------------------------------------------------------------

@in_browser
def test_the_next_link_goes_from_chapter_1_to_chapter_2(site, open_page):
    _, chapters = site
    page, _ = open_page(f'{chapters[0]}.html')
    page.click('nav.d2l-nav >> nth=0 >> a[rel=next]')
    page.wait_for_url(f'**/{chapters[1]}.html')
    assert page.eval_on_selector('.d2l-sidebar a[aria-current=page]',
                                 'a => a.getAttribute("href")') == f'{chapters[1]}.html'
    page.click('nav.d2l-nav >> nth=0 >> a[rel=prev]')
    page.wait_for_url(f'**/{chapters[0]}.html')


@in_browser
def test_the_sidebar_lists_the_book_and_the_page_outline(site, open_page):
    _, chapters = site
    page, _ = open_page(f'{chapters[0]}.html')
    sidebar = page.locator('nav.d2l-sidebar')
    assert sidebar.is_visible()
    hrefs = sidebar.locator('ol.d2l-toc > li > a').evaluate_all(
        'links => links.map(a => a.getAttribute("href"))')
    assert hrefs == [f'{name}.html' for name in chapters]
    outline = sidebar.locator('.d2l-outline a')
    assert outline.count() >= 2
    anchor = outline.nth(1).get_attribute('href')
    outline.nth(1).click()
    assert page.evaluate('() => location.hash') == anchor
    heading = page.locator(f'[id="{unquote(anchor[1:])}"]')
    assert heading.evaluate('h => h.tagName') in ('H2', 'H3')
    top = heading.evaluate('h => h.getBoundingClientRect().top')
    assert -2 <= top < DESKTOP['height'] - 50  # scrolled into view


@in_browser
def test_the_framework_tabs_switch_together_and_the_choice_follows_the_reader(site, open_page):
    _, chapters = site
    page, errors = open_page(f'{chapters[0]}.html')  # a new context: nothing remembered yet

    def chosen():
        return page.evaluate('() => document.documentElement.dataset.framework')

    def selected():
        return page.locator('.d2l-tabs button[aria-selected=true]').evaluate_all(
            'buttons => [...new Set(buttons.map(b => b.dataset.framework))]')
    bars = page.locator('.d2l-tabs')
    assert bars.count() >= 1 and chosen() == 'mxnet' and selected() == ['mxnet']
    assert page.locator('.celltag_tab-mxnet').first.is_visible()
    assert not page.locator('.celltag_tab-pytorch').first.is_visible()
    last = bars.nth(bars.count() - 1)
    last.scroll_into_view_if_needed()
    top = last.evaluate('bar => bar.getBoundingClientRect().top')
    last.get_by_role('tab', name='PyTorch').click()
    assert chosen() == 'pytorch' and selected() == ['pytorch']  # every bar on the page
    assert abs(last.evaluate('bar => bar.getBoundingClientRect().top') - top) < 2
    assert page.locator('.celltag_tab-pytorch').first.is_visible()
    assert not page.locator('.celltag_tab-mxnet').first.is_visible()
    assert page.evaluate('() => location.search') == '?framework=pytorch'  # a link to share
    notebooks = page.locator('nav.d2l-nav >> nth=0 >> a:visible', has_text='Download notebook')
    assert notebooks.get_attribute('href') == f'{chapters[0]}.pytorch.ipynb'
    page.goto(page.url.split('?')[0].replace(chapters[0], chapters[1]))  # another page
    assert chosen() == 'pytorch'
    page.goto(page.url.replace(chapters[1], chapters[0]))  # a later visit
    assert chosen() == 'pytorch' and selected() == ['pytorch']
    page.keyboard.press('Tab')
    page.locator('.d2l-tabs button[aria-selected=true]').first.focus()
    page.keyboard.press('ArrowLeft')  # a tab list moves with the arrows
    assert chosen() == 'mxnet'
    assert errors == []
    linked, _ = open_page(f'{chapters[0]}.html?framework=pytorch')  # a link, in a new context
    assert linked.evaluate('() => document.documentElement.dataset.framework') == 'pytorch'
    linked.goto(linked.url.split('?')[0].replace(chapters[0], chapters[1]))
    assert linked.evaluate('() => document.documentElement.dataset.framework') == 'pytorch'


@in_browser
def test_the_copy_button_copies_the_code(site, open_page):
    _, chapters = site
    page, _ = open_page(f'{chapters[0]}.html')
    cell = page.locator('.jp-CodeCell').filter(has=page.locator('.d2l-copy')).first
    code = cell.locator('.jp-InputArea-editor pre').text_content().rstrip('\n')
    button = cell.locator('.d2l-copy')
    button.click()
    page.wait_for_function('b => b.textContent === "Copied"', arg=button.element_handle())
    assert page.evaluate('() => navigator.clipboard.readText()') == code
    assert len(code) > 5


@in_browser
def test_on_a_phone_the_copy_button_covers_no_code(site, open_page):
    _, chapters = site
    page, _ = open_page(f'{chapters[0]}.html', PHONE)
    gaps = page.evaluate('''() => [...document.querySelectorAll('.jp-CodeCell')]
        .filter(cell => cell.querySelector('.d2l-copy')).map(cell => {
            const button = cell.querySelector('.d2l-copy').getBoundingClientRect();
            const code = cell.querySelector('.jp-InputArea-editor pre').getBoundingClientRect();
            return code.top - button.bottom; })''')
    assert gaps and min(gaps) >= 0


@in_browser
def test_the_copy_button_falls_back_without_the_async_clipboard(site, open_page):
    _, chapters = site
    page, _ = open_page(f'{chapters[0]}.html')
    copied = page.evaluate('''() => {
        let copied = null;
        const real = document.execCommand.bind(document);
        document.execCommand = cmd => { copied = window.getSelection().toString()
            || document.activeElement.value; return real(cmd); };
        Object.defineProperty(navigator, 'clipboard', {value: undefined});
        const button = document.querySelector('.d2l-copy');
        button.click();
        return new Promise(done => setTimeout(() => done([copied, button.textContent]), 100));
    }''')
    code = page.locator('.jp-CodeCell .jp-InputArea-editor pre').first.text_content()
    assert copied == [code.rstrip('\n'), 'Copied']


@in_browser
def test_long_outputs_are_folded(site, open_page):
    folder, chapters = site
    for name in chapters:
        page, _ = open_page(f'{name}.html')
        shown = page.evaluate(r'''() => [...document.querySelectorAll('.jp-RenderedText pre')]
            .filter(pre => !pre.closest('details'))
            .map(pre => pre.textContent.replace(/\n$/, '').split('\n').length)''')
        assert max(shown, default=0) <= FOLD_LINES, name
        folded = page.locator('details.d2l-long')
        if folded.count() == 0:
            assert is_real(folder) or name != chapters[0], name  # a long log, made so
            continue
        first = folded.first
        assert not first.locator('pre').is_visible()
        first.locator('summary').click()
        assert first.locator('pre').is_visible()


def is_real(folder):
    return folder == ROOT / BUILD / 'site'


@in_browser
def test_the_gallery_links_each_image_to_its_chapter(site, open_page):
    _, chapters = site
    page, _ = open_page('gallery.html')
    links = page.locator('.d2l-gallery figure > a').evaluate_all(
        'links => links.map(a => a.getAttribute("href").split("#")[0])')
    assert links and set(links) <= {f'{name}.html' for name in chapters}
    assert links[0] == f'{chapters[0]}.html'


# ---- screenshots ------------------------------------------------------------------------

@in_browser
@pytest.mark.parametrize('viewport', [DESKTOP, PHONE, PROJECTOR], ids=['desktop', 'phone', 'projector'])
def test_a_screenshot_of_chapter_1_is_not_blank(site, open_page, viewport):
    folder, chapters = site
    page, _ = open_page(f'{chapters[0]}.html', viewport)
    kind = 'book' if is_real(folder) else 'synthetic'
    shot = SHOTS / f'{kind}-{chapters[0]}-{viewport["width"]}.png'
    shot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shot), full_page=False)
    image = Image.open(shot).convert('RGB')
    assert image.size == (viewport['width'], viewport['height'])
    colours = image.getcolors(maxcolors=1 << 20)
    assert len(colours) > 100  # text, the sidebar, highlighted code: not one flat colour
    assert max(ImageStat.Stat(image).stddev) > 20


# ---- search ---------------------------------------------------------------------------------

SEARCHES = {'synthetic': ('02_second.html', 'speaker', '01_first.html#The-loss'),
            'book': ('03_optimizers.html', 'Gram', '01_neural_style.html#Style-Loss')}


def search_and_click(page, query, target):
    """Type ``query`` in the search box; the results list ``target``, and a click lands on it."""
    page.fill('.d2l-search-box', query)
    found = page.locator(f'.d2l-results a[href="{target}"]')
    found.wait_for(timeout=15_000)
    assert query.lower() in found.inner_text().lower()  # the heading or the snippet shows it
    found.click()
    anchor = target.split('#')[1]
    page.wait_for_function(f'() => location.hash === "#{anchor}"')
    assert page.evaluate('() => location.pathname').endswith(target.split('#')[0])
    top = page.locator(f'[id="{anchor}"]').evaluate('h => h.getBoundingClientRect().top')
    assert -2 <= top < DESKTOP['height'] - 50  # the section is in view


@in_browser
def test_search_lists_a_section_of_another_chapter_and_lands_on_it(site, open_page):
    folder, chapters = site
    start, query, target = SEARCHES['synthetic' if chapters[0] == '01_first' else 'book']
    page, errors = open_page(start)
    search_and_click(page, query, target)
    assert errors == []


@in_browser
def test_search_works_from_the_file_system(site, browser):
    folder, chapters = site
    start, query, target = SEARCHES['synthetic' if chapters[0] == '01_first' else 'book']
    context = browser.new_context(viewport=DESKTOP)
    try:
        page = context.new_page()
        page.goto((folder / start).as_uri(), wait_until='load')
        search_and_click(page, query, target)
        page.fill('.d2l-search-box', 'zqxjv')  # no such word: one line says so
        page.locator('.d2l-results .d2l-none').wait_for(timeout=5_000)
    finally:
        context.close()


def test_the_search_index_holds_every_pages_sections():
    from builder.search import sections
    html = ('<nav><h2 id="Nav">Not the page</h2></nav><main><p>Before.</p>'
            '<h1 id="Title">Title<a class="anchor-link" href="#Title">¶</a></h1><p>Intro.</p>'
            '<h2 id="Gram">The Gram matrix</h2><p>Second moments.</p><script>var x;</script>'
            '<h3>No id</h3><p>Still Gram.</p></main>')
    assert sections(html) == [('', '', 'Before.'), ('Title', 'Title', 'Intro.'),
                              ('Gram', 'The Gram matrix', 'Second moments. No id Still Gram.')]


def test_the_search_index_leaves_out_code_cells_formulas_and_the_set_up_note():
    from builder.search import sections
    html = ('<main><p class="d2l-needs">To run this chapter, get <a>the notebooks</a>.</p>'
            '<h2 id="Loss">Loss</h2><p>The Gram matrix $G =\nXX^T$ of a layer, and</p>'
            '$$L = \\sum_k G_k$$<div class="jp-Cell jp-CodeCell"><div><pre>def gram(x)</pre>'
            '</div></div><p>after the code.</p></main>')
    assert sections(html) == [('Loss', 'Loss', 'The Gram matrix of a layer, and after the code.')]


@in_browser
def test_on_a_phone_the_contents_fold_behind_a_button_and_figures_fit(site, open_page):
    _, chapters = site
    page, _ = open_page(f'{chapters[0]}.html', PHONE)
    is_open = '() => document.querySelector(".d2l-sidebar details").open'
    assert page.evaluate(is_open) is False and page.locator('.d2l-search-box').is_visible()
    page.focus('.d2l-sidebar summary')
    page.keyboard.press('Enter')  # from the keyboard, as with a click
    assert page.evaluate(is_open) is True
    rights = page.evaluate('() => [...document.querySelectorAll("main img")]'
                           '.map(i => i.getBoundingClientRect().right)')
    assert rights and max(rights) <= PHONE['width'], rights


# ---- accessibility --------------------------------------------------------------------------

@in_browser
def test_no_page_has_a_serious_accessibility_violation(site, open_page):
    """axe-core (npm, pinned) over every page and deck: nothing of impact serious or critical."""
    from builder.npm import npm_package
    axe = (npm_package('axe-core') / 'axe.min.js').read_text()
    found = {}
    for name in pages_of(site):
        page, _ = open_page(name)
        page.add_script_tag(content=axe)
        violations = page.evaluate('async () => (await axe.run(document, {resultTypes: '
                                   '["violations"]})).violations.map(v => [v.id, v.impact, '
                                   'v.nodes.length, v.nodes[0].target.join(" "), '
                                   'v.nodes[0].failureSummary.slice(0, 300)])')
        bad = [v for v in violations if v[1] in ('serious', 'critical')]
        if bad:
            found[name] = bad
    assert found == {}


# ---- the front page ---------------------------------------------------------------------------

@in_browser
def test_the_front_pages_first_screen_shows_the_runs_pictures_and_the_ways_in(site, open_page):
    folder, chapters = site
    page, errors = open_page('index.html', {'width': 1280, 'height': 720})
    page.wait_for_function('() => [...document.querySelectorAll(".d2l-first img")]'
                           '.every(i => i.complete)')
    seen = page.evaluate('''() => [...document.querySelectorAll('main img')].filter(i => {
        const r = i.getBoundingClientRect();
        return i.naturalWidth > 0 && r.width > 40 && r.top >= 0 && r.bottom <= innerHeight;
    }).map(i => i.getAttribute('src'))''')
    gallery = [f'gallery/{p.name}' for p in (folder / 'gallery').glob('*-[0-9].*')]
    wanted = min(3, len({src.split('-')[0] for src in gallery}))  # a chapter's first image each
    assert len([src for src in seen if src in gallery]) >= wanted, seen
    ways = page.evaluate('''() => [...document.querySelectorAll('.d2l-first a.d2l-way')]
        .filter(a => a.getBoundingClientRect().bottom <= innerHeight)
        .map(a => a.getAttribute('href'))''')
    assert ways[:2] == [f'{chapters[0]}.html', '#downloads'], ways
    assert errors == []


def test_the_first_sentence_of_the_preface_leads_the_front_page():
    from builder.site import split_lead
    text = '## Preface\n\nThis book teaches it, e.g. by\nbuilding it. Then more.\n\nNext.'
    assert split_lead(text) == ('This book teaches it, e.g. by\nbuilding it.',
                                '## Preface\n\nThen more.\n\nNext.')
    assert split_lead('One sentence only') == ('One sentence only', '')
