"""The built site in a real browser: headless Chromium (Debian's) driven by Playwright.

Each check runs on a site built from small synthetic notebooks (seconds: a formula, an image,
a long output, a gallery tag) and, in the slow run, on the real book (_build/site, whose
chapters the execution cache shares with test_book.py, so they run once per test run).
Without /usr/bin/chromium the tests skip, except in CI (CI=true), where they fail.
"""
import functools
import http.server
import os
import re
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlparse

import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell
from PIL import Image, ImageStat

import build
from conftest import BOOK_BUILD
from test_build import make_book, notebook

pytestmark = pytest.mark.browser

CHROMIUM = Path('/usr/bin/chromium')
# No network, no first-run or background chatter: the site must work offline.
CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
                 '--disable-background-networking', '--disable-component-update',
                 '--disable-sync']
DESKTOP = {'width': 1280, 'height': 800}
PHONE = {'width': 390, 'height': 844}
PROJECTOR = {'width': 1920, 'height': 1080}
SHOTS = build.BUILD / 'screenshots'  # kept, to look at

GRADIENT = ('from PIL import Image\n'
            'ramp = Image.linear_gradient("L").resize((320, 200))\n'
            'Image.merge("RGB", (ramp, ramp.transpose(Image.Transpose.ROTATE_90).resize((320, 200)),'
            ' Image.new("L", (320, 200), 90)))')


def synthetic_book(root):
    """Two chapters with what the site must handle: formulas, images, a long log, a tag."""
    make_book(root)
    first = [new_markdown_cell('## The loss\n\nContent loss $L_c = \\frac{1}{2}\\sum (F - P)^2$, '
                               'and displayed:\n\n$$G_{ij} = \\sum_k F_{ik} F_{jk}$$\n\n'
                               '![dot](../img/dot.png)'),
             '#@save\ndef gram(x):\n    return x @ x.T',
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
    done = subprocess.run([sys.executable, *BOOK_BUILD], cwd=build.ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    return build.BUILD / 'site', [p.stem for p in build.find_chapters()]


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


# ---- every page -------------------------------------------------------------------------

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
            if fragment and target.endswith('.html'):
                ids = {fragment, unquote(fragment)}
                assert any(f'id="{i}"' in body for i in ids), (name, url)
    assert any(url.endswith('.ipynb') for url in checked)
    assert any(url.endswith(build.BOOK_ZIP) for url in checked)


def fetch(url):
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read().decode(errors='replace')
    except urllib.error.HTTPError as err:
        return err.code, ''


def test_phone_pages_do_not_scroll_sideways(site, open_page):
    for name in pages_of(site):
        page, _ = open_page(name, PHONE)
        width = page.evaluate('() => [document.documentElement.scrollWidth, window.innerWidth]')
        assert width[0] <= width[1], (name, width)


# ---- the chapters -----------------------------------------------------------------------

def test_the_next_link_goes_from_chapter_1_to_chapter_2(site, open_page):
    _, chapters = site
    page, _ = open_page(f'{chapters[0]}.html')
    page.click('nav.d2l-nav >> nth=0 >> a[rel=next]')
    page.wait_for_url(f'**/{chapters[1]}.html')
    assert page.eval_on_selector('.d2l-sidebar a[aria-current=page]',
                                 'a => a.getAttribute("href")') == f'{chapters[1]}.html'
    page.click('nav.d2l-nav >> nth=0 >> a[rel=prev]')
    page.wait_for_url(f'**/{chapters[0]}.html')


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


def test_on_a_phone_the_copy_button_covers_no_code(site, open_page):
    _, chapters = site
    page, _ = open_page(f'{chapters[0]}.html', PHONE)
    gaps = page.evaluate('''() => [...document.querySelectorAll('.jp-CodeCell')]
        .filter(cell => cell.querySelector('.d2l-copy')).map(cell => {
            const button = cell.querySelector('.d2l-copy').getBoundingClientRect();
            const code = cell.querySelector('.jp-InputArea-editor pre').getBoundingClientRect();
            return code.top - button.bottom; })''')
    assert gaps and min(gaps) >= 0


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


def test_long_outputs_are_folded(site, open_page):
    folder, chapters = site
    for name in chapters:
        page, _ = open_page(f'{name}.html')
        shown = page.evaluate(r'''() => [...document.querySelectorAll('.jp-RenderedText pre')]
            .filter(pre => !pre.closest('details'))
            .map(pre => pre.textContent.replace(/\n$/, '').split('\n').length)''')
        assert max(shown, default=0) <= build.FOLD_LINES, name
        folded = page.locator('details.d2l-long')
        if folded.count() == 0:
            assert is_real(folder) or name != chapters[0], name  # a long log, made so
            continue
        first = folded.first
        assert not first.locator('pre').is_visible()
        first.locator('summary').click()
        assert first.locator('pre').is_visible()


def is_real(folder):
    return folder == build.BUILD / 'site'


def test_the_gallery_links_each_image_to_its_chapter(site, open_page):
    _, chapters = site
    page, _ = open_page('gallery.html')
    links = page.locator('.d2l-gallery figure > a').evaluate_all(
        'links => links.map(a => a.getAttribute("href").split("#")[0])')
    assert links and set(links) <= {f'{name}.html' for name in chapters}
    assert links[0] == f'{chapters[0]}.html'


# ---- screenshots ------------------------------------------------------------------------

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
