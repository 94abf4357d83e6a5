"""The static site around the chapters' pages: the sidebar of contents with each page's
outline, previous/next links, the index, the credits, the gallery of results, each chapter's
slides, the notebooks and the download that runs them (d2lstyle-book.zip), the style sheet,
script, MathJax and reveal.js. A chapter with tabs for several frameworks (builder.tabs) has one
page, with a tab bar wherever the frameworks' cells differ, and slides, a notebook and a
download for each framework."""
import base64
import html
import io
import mimetypes
import os
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import jupyter_server_mathjax
import nbformat
from PIL import Image
from nbconvert.filters.markdown_mistune import markdown2html_mistune

from builder import ASSETS, CHAPTERS, IMG, PACKAGE, ROOT, stored_results, write_atomic
from builder.config import CONFIG, Book, chapter_paths, load_book
from builder.docs import DOCS, GUIDE
from builder.search import write_search
from builder.notebooks import for_students, stripped, title_of
from builder.package import package_files
from builder.render import MATHJAX, chapter_html
from builder.pdf import BOOK_PDF
from builder.slides import copy_reveal, render_deck
from builder.tabs import (FRAMEWORKS, LABELS, for_framework, frameworks_of, head_html,
                          suffixed, tabbed)
from builder import tryit
from d2lstyle.atomic import umask

BOOK_ZIP = 'd2lstyle-book.zip'  # the chapters with everything they need to run
BOOK_FOLDER = 'd2lstyle-book'  # the folder the zip unpacks into
# What the download of each framework holds besides the chapters and the package.
DOWNLOAD = {'mxnet': ('README.md', 'requirements.txt', 'environment.yml'),
            'pytorch': ('README-pytorch.md', 'requirements-pytorch.txt')}
CREDITS = 'CREDITS.md'  # under img/: the images' and weights' sources and licences
# Files a chapter reads beside it: a string that starts with ../ in a code cell.
BESIDE = re.compile(r'''['"]\.\./([^'"]+)['"]''')
OUTLINE_SLOT = '<!--d2l-outline-->'
GALLERY_TAG = 'gallery'
IMAGE_TYPES = {'image/png': 'png', 'image/jpeg': 'jpg'}
PREFACE = 'preface.md'  # under chapters/: the front page's text, before the contents
THUMB_WIDTH = 640  # pixels of a chapter's thumbnail on the front page
GUIDE_PAGE = 'guide.html'  # the user's guide, docs/guide.md
SENTENCE_END = re.compile(r'(?<=[.!?])\s+(?=[A-Z])')
# in every page's sidebar, above the contents (which fold on a phone); book.js makes it work
SEARCH_BOX = ('<div class="d2l-search" role="search"><input type="search" class="d2l-search-box" '
              'placeholder="Search the book" aria-label="Search the book" autocomplete="off">'
              '<ol class="d2l-results" aria-label="Sections found" hidden></ol></div>')


@dataclass(frozen=True)
class Contents:
    """What the frame of every page shows: the book (its title and logo), its chapters as
    (name, title) in reading order, and whether there is a credits page."""
    book: Book
    pages: list
    credits: bool = False
    root: Path = ROOT
    guide: bool = False  # the site has the user's guide (builder.docs)
    tryit: bool = False  # the site has the Try-it page (builder.tryit)
    pdf: bool = False  # the site holds the book as a PDF (builder.pdf)


def render(runs, out, pages=None, root=ROOT, book=None, solutions=False, pdf=False):
    """Write the pages of the chapters ``runs`` (ChapterRuns), the index, the gallery and the
    downloads; return the index's path.

    ``pages`` ((name, title) of every chapter, in order) make the contents and the
    previous/next links; by default, the executed chapters alone. ``book``: the
    configuration (builder.config), by default the one in ``root``. The notebooks to
    download keep the cells tagged as solutions only with ``solutions``; ``pdf``: link the
    book's PDF, which builder.pdf prints after.
    """
    out, credits = Path(out), Path(root) / IMG / CREDITS
    guide = Path(root) / DOCS / GUIDE
    book = book or load_book(root)
    contents = Contents(book, pages or [(r.path.stem, title_of(r.nb, r.path)) for r in runs],
                        credits.exists(), Path(root), pdf=pdf, guide=guide.exists(),
                        tryit=tryit.available(root))
    names = [name for name, _ in contents.pages]
    copy_mathjax(out)
    copy_assets(out)
    copy_reveal(out)
    for path, tabs in by_chapter(runs):
        i = names.index(path.stem)
        source = nbformat.read(path, as_version=4)
        page_nb = tabbed(source if solutions else for_students(source), tabs, path)
        render_chapter(page_nb, path, contents, i, out, list(tabs))
        for framework, nb in tabs.items():
            render_deck(nb, path, contents.pages[i][1], out, suffixed(path.stem, '', framework))
            write_atomic(out / suffixed(path.stem, '.ipynb', framework),
                         notebook_bytes(path, solutions, framework))
    first = [run for run in runs if run.framework == FRAMEWORKS[0]]
    shown = render_gallery(first, contents, out)
    render_index(contents, out, credits, first, shown)
    if contents.guide:
        write_atomic(out / GUIDE_PAGE, page(f"User's guide - {book.title}",
                                            markdown2html_mistune(guide.read_text()), contents))
    if contents.tryit:
        tryit.write_models(root, out)
        tryit.copy_runtime(out)
        write_atomic(out / tryit.TRY_PAGE, page(f'Try it - {book.title}', tryit.content(root),
                                                contents))
    write_search(out, searched_pages(contents, out))
    chapters = [Path(root) / CHAPTERS / f'{name}.ipynb' for name in names]
    for framework in FRAMEWORKS:
        write_atomic(out / book_zip_name(framework),
                     book_zip(root, chapters, solutions, framework))
    return out / 'index.html'


def searched_pages(contents, out):
    """(file, title) of each page of the site that the search box searches: all but the
    decks."""
    pages = [('index.html', contents.book.title)]
    pages += [(f'{name}.html', title) for name, title in contents.pages
              if (Path(out) / f'{name}.html').exists()]
    pages += [(GUIDE_PAGE, "User's guide")] if contents.guide else []
    pages += [(tryit.TRY_PAGE, 'Try it')] if contents.tryit else []
    pages += [('gallery.html', 'Gallery')]
    return pages + ([('credits.html', 'Credits')] if contents.credits else [])


def by_chapter(runs):
    """The runs (ChapterRuns) by chapter, in order: [(path, {framework: executed notebook})]."""
    chapters = {}
    for run in runs:
        chapters.setdefault(Path(run.path), {})[run.framework] = run.nb
    return list(chapters.items())


def book_zip_name(framework):
    """d2lstyle-book.zip for MXNet, the book's first framework; d2lstyle-book-pytorch.zip."""
    return BOOK_ZIP if framework == FRAMEWORKS[0] else f'{BOOK_FOLDER}-{framework}.zip'


def for_tab(framework, text, frameworks):
    """``text`` in a span shown only in ``framework``'s tab, where a page has several."""
    return (f'<span class="d2l-tab-{framework}">{text}</span>' if len(frameworks) > 1
            else text)


# ---- the frame of every page: sidebar, navigation -----------------------------------------

def link(href, text, **attrs):
    extra = ''.join(f' {name.rstrip("_")}="{value}"' for name, value in attrs.items())
    return f'<a href="{html.escape(href)}"{extra}>{text}</a>'


def nav(contents, i, frameworks=FRAMEWORKS[:1]):
    """Links to the previous chapter, the contents, the slides and the notebook of each of
    the page's ``frameworks`` (the chosen one shown), credits, the next chapter."""
    pages = contents.pages
    prev = (link(f'{pages[i - 1][0]}.html', f'&larr; {html.escape(pages[i - 1][1])}', rel='prev')
            if i else '')
    nxt = (link(f'{pages[i + 1][0]}.html', f'{html.escape(pages[i + 1][1])} &rarr;', rel='next')
           if i + 1 < len(pages) else '')
    name = pages[i][0]
    middle = [link('index.html', 'Contents'),
              ''.join(for_tab(f, link(suffixed(name, '.slides.html', f), 'Slides'), frameworks)
                      for f in frameworks),
              ''.join(for_tab(f, link(suffixed(name, '.ipynb', f), 'Download notebook',
                                      download=''), frameworks) for f in frameworks)]
    if contents.credits:
        middle.append(link('credits.html', 'Credits'))
    return (f'<nav class="d2l-nav"><span>{prev}</span><span>{" &middot; ".join(middle)}</span>'
            f'<span>{nxt}</span></nav>')


class Headings(HTMLParser):
    """The ``<h2>`` and ``<h3>`` of a page: (level, id, text), the text without its ¶ link."""

    def __init__(self):
        super().__init__()
        self.found, self.open, self.skip = [], None, 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ('h2', 'h3') and attrs.get('id'):
            self.open = [int(tag[1]), attrs['id'], '']
        elif self.open and tag == 'a' and 'anchor-link' in (attrs.get('class') or ''):
            self.skip += 1

    def handle_endtag(self, tag):
        if self.skip and tag == 'a':
            self.skip -= 1
        elif self.open and tag == f'h{self.open[0]}':
            self.found.append((self.open[0], self.open[1], ' '.join(self.open[2].split())))
            self.open = None

    def handle_data(self, data):
        if self.open and not self.skip:
            self.open[2] += data


def outline(body):
    """The page's sections as a nested list for the sidebar ('' when it has none)."""
    parser = Headings()
    parser.feed(body)
    items = ''.join(f'<li class="d2l-h{level}">{link("#" + anchor, html.escape(text))}</li>'
                    for level, anchor, text in parser.found)
    return f'<ul class="d2l-outline" aria-label="On this page">{items}</ul>' if items else ''


def sidebar(contents, current=None):
    """The contents of the whole book; the current chapter (a name) gets a slot for its outline."""
    chapters = ''.join(
        f'<li>{link(name + ".html", html.escape(title), **({"aria-current": "page"} if name == current else {}))}'
        f'{OUTLINE_SLOT if name == current else ""}</li>' for name, title in contents.pages)
    extra = [link('gallery.html', 'Gallery of results')] + [
        link(book_zip_name(f), f"The book's notebooks for {LABELS[f]} (zip)", download='')
        for f in FRAMEWORKS]
    if contents.credits:
        extra.insert(1, link('credits.html', 'Credits: images and weights'))
    if contents.guide:
        extra.insert(0, link(GUIDE_PAGE, "User's guide: the commands, building the site"))
    if contents.tryit:
        extra.insert(0, link(tryit.TRY_PAGE, 'Try it: paint your photo in the browser'))
    if contents.pdf:
        extra.append(link(BOOK_PDF, 'The book as a PDF'))
    items = ''.join(f'<li>{item}</li>' for item in extra)
    home = logo(contents) + html.escape(contents.book.title)
    return (f'<nav class="d2l-sidebar" aria-label="Book">{link("index.html", home, class_="d2l-home")}'
            f'{SEARCH_BOX}<details open><summary>Contents</summary>'
            f'<ol class="d2l-toc">{chapters}</ol>'
            f'<ul class="d2l-extra">{items}</ul></details></nav>')


def logo(contents):
    """The book's logo, if it has one, as an image inside the page: the site stays one folder."""
    if not contents.book.logo:
        return ''
    path = contents.root / contents.book.logo
    mime = mimetypes.guess_type(path.name)[0]
    data = base64.b64encode(path.read_bytes()).decode()
    return f'<img class="d2l-logo" src="data:{mime};base64,{data}" alt="">'


def copy_mathjax(out):
    """MathJax travels with the site, so formulas render offline."""
    target = Path(out) / MATHJAX
    if target.is_dir():  # only ever made whole, by the rename below
        return
    Path(out).mkdir(parents=True, exist_ok=True)
    tmp = tempfile.mkdtemp(dir=out, prefix=f'.{MATHJAX}.')
    try:
        shutil.copytree(Path(jupyter_server_mathjax.__file__).parent / 'static', tmp,
                        dirs_exist_ok=True)
        os.chmod(tmp, 0o777 & ~umask())
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def copy_assets(out):
    """The style sheet and the script of every page."""
    for name in ('book.css', 'book.js'):
        write_atomic(Path(out) / '_static' / name, (ASSETS / name).read_bytes())


# ---- the pages ----------------------------------------------------------------------------

def chapter_page(nb, path, contents, i, frameworks=FRAMEWORKS[:1]):
    """The HTML of chapter ``i`` of ``contents``, executed as ``nb`` (its tabs of
    ``frameworks``, builder.tabs.tabbed): its page in the book's frame, with its outline in
    the sidebar."""
    name, title = contents.pages[i]
    frame = {'sidebar': sidebar(contents, name), 'nav': nav(contents, i, frameworks),
             'needs': needs_line(nb, path, frameworks)}
    body = chapter_html(nb, path, title, frame)
    # the outline is of the rendered page: nbconvert gives the headings their ids
    return body.replace(OUTLINE_SLOT, outline(body), 1)


def render_chapter(nb, path, contents, i, out, frameworks=FRAMEWORKS[:1]):
    write_atomic(Path(out) / f'{contents.pages[i][0]}.html',
                 chapter_page(nb, path, contents, i, frameworks))


def page(title, content, contents):
    """A page of the site that is not a chapter, in the same frame."""
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<title>{html.escape(title)}</title><link rel="icon" href="data:,">{head_html()}'
            f'<link rel="stylesheet" href="_static/book.css"></head>'
            f'<body class="d2l-book">{sidebar(contents)}<div class="d2l-page">'
            f'<main class="d2l-text">{content}</main></div>'
            f'<script src="_static/book.js"></script></body></html>')


def render_index(contents, out, credits, runs=(), shown=()):
    """The front page (the title, course and authors, a first screen of the book's results
    from ``shown``, the gallery's images, the preface, then each chapter with its summary and a
    thumbnail of its result), and the credits page when the file ``credits`` exists."""
    has_credits, book = credits.exists(), contents.book
    executed = {run.path.stem: run.nb for run in runs}
    chapters = contents.root / CHAPTERS
    items = ''.join(chapter_card(i, name, title, chapters / f'{name}.ipynb', executed.get(name),
                                 Path(out)) for i, (name, title) in enumerate(contents.pages, 1))
    extra = ('<p><a href="credits.html">Credits: images and weights</a></p>'
             if has_credits else '')
    if contents.guide:
        extra = (f'<p>The <a href="{GUIDE_PAGE}">user\'s guide</a>: setting up, the '
                 '<code>d2lstyle</code> commands and their options, building and publishing '
                 'the site for a course.</p>') + extra
    mxnet, pytorch = (link(book_zip_name(f), f'the notebooks for {LABELS[f]}', download='')
                      for f in FRAMEWORKS)
    downloads = (f'<p id="downloads">Run the chapters yourself: download {mxnet} or {pytorch}, '
                 'each with the helper package, the images and the pinned dependencies; its README says how '
                 'to set up Python (3.10 or 3.11 for MXNet, 3.11 to 3.13 for PyTorch) and '
                 'Jupyter. Every chapter page shows its code in the framework you choose '
                 'there. See also the <a href="gallery.html">gallery of results</a>.</p>')
    preface = chapters / PREFACE
    lead, rest = split_lead(preface.read_text() if preface.exists() else '')
    byline = ''.join(f'<p class="d2l-byline">{html.escape(line)}</p>' for line in book.byline)
    write_atomic(Path(out) / 'index.html',
                 page(book.title, f'<h1>{html.escape(book.title)}</h1>{byline}'
                      f'{first_screen(contents, shown, lead)}{markdown2html_mistune(rest)}'
                      f'<h2>Chapters</h2><ul class="d2l-chapters">{items}</ul>{downloads}{extra}',
                      contents))
    if has_credits:
        write_atomic(Path(out) / 'credits.html',
                     page(f'Credits - {book.title}', markdown2html_mistune(credits.read_text()),
                          contents))


def split_lead(preface):
    """(the preface's first sentence, the rest): the first says what the book teaches, on
    the first screen."""
    blocks = preface.strip().split('\n\n')
    heading = [b for b in blocks[:1] if b.startswith('#')]
    lead, *rest = SENTENCE_END.split('\n\n'.join(blocks[len(heading):]), maxsplit=1)
    return lead, '\n\n'.join(heading + rest)


def first_screen(contents, shown, lead):
    """What a reader sees before scrolling: the first chapter's result as the gallery shows
    it (its photograph, its painting and the picture made of them), the sentence that says
    what the book teaches, three ways in, and the next chapters' results."""
    ways = [link(f'{contents.pages[0][0]}.html', 'Read chapter 1', class_='d2l-way'),
            link('#downloads', 'Download the notebooks', class_='d2l-way')]
    if contents.tryit:
        ways.append(link(tryit.TRY_PAGE, 'Try it on your photo', class_='d2l-way'))
    if contents.guide:
        ways.append(link(GUIDE_PAGE, 'Stylize your own photo', class_='d2l-way'))
    text = (f'<div class="d2l-lead">{markdown2html_mistune(lead)}'
            f'<p class="d2l-ways">{" ".join(ways)}</p></div>')
    if not shown:
        return f'<section class="d2l-first" aria-label="Where to start">{text}</section>'
    first = shown[0]
    others = {}  # the first image of each later chapter
    for chapter, file, alt, href in shown:
        if chapter != first[0]:
            others.setdefault(chapter, (file, alt, href))
    strip = ''.join(f'<li>{link(href, image(file, alt))}</li>'
                    for file, alt, href in list(others.values())[:3])
    more = f'<ul class="d2l-more">{strip}</ul>' if strip else ''
    return (f'<section class="d2l-first" aria-label="What the book makes">'
            f'{link(first[3], image(first[1], first[2]))}{text}{more}</section>')


def image(file, alt):
    return f'<img src="{file}" alt="{html.escape(alt)}">'


def chapter_card(number, name, title, path, nb, out):
    """A chapter on the front page: its title, its one-sentence summary (the metadata
    ``summary`` of its notebook at ``path``) and a thumbnail of its result when it was executed
    (as ``nb``) by this build or an earlier one."""
    thumb = thumbnail(nb, name, out) if nb is not None else None
    if thumb is None and (out / f'gallery/{name}-thumb.jpg').exists():  # from an earlier build
        thumb = f'gallery/{name}-thumb.jpg'
    image = (f'<a href="{name}.html"><img src="{thumb}" alt="The result of chapter {number}" '
             f'loading="lazy"></a>' if thumb else '')
    summary = nbformat.read(path, as_version=4).metadata.get('summary', '') if path.exists() else ''
    return (f'<li>{image}<div>{number}. <a href="{name}.html">{html.escape(title)}</a> '
            f'(<a href="{name}.ipynb" download>notebook</a>)'
            f'{f"<p>{html.escape(summary)}</p>" if summary else ""}</div></li>')


def thumbnail(nb, name, out, width=THUMB_WIDTH):
    """The chapter's first gallery image, ``width`` pixels wide, as gallery/NAME-thumb.jpg."""
    images = gallery_images(nb)
    if not images:
        return None
    img = Image.open(io.BytesIO(images[0][2])).convert('RGB')
    img.thumbnail((width, 4 * width))
    data = io.BytesIO()
    img.save(data, 'JPEG', quality=85)
    file = f'gallery/{name}-thumb.jpg'
    write_atomic(out / file, data.getvalue())
    return file


# ---- the gallery --------------------------------------------------------------------------

def images_of(cell):
    """(mime type, bytes, its words or None) of each image a code cell displayed; the words
    are those d2lstyle.plot gives a figure."""
    for output in cell.get('outputs', []):
        for mime in IMAGE_TYPES:
            if mime in output.get('data', {}):
                alt = output.get('metadata', {}).get(mime, {}).get('alt')
                yield mime, base64.b64decode(output['data'][mime]), alt


def gallery_images(nb):
    """(cell, mime, bytes) of the images of the cells tagged 'gallery'; without any tag, the
    chapter's last image (its result, as the chapters end with it)."""
    code = [c for c in nb.cells if c.cell_type == 'code']
    tagged = [(c, *image) for c in code if GALLERY_TAG in c.metadata.get('tags', [])
              for image in images_of(c)]
    if tagged:
        return tagged
    every = [(c, *image) for c in code for image in images_of(c)]
    return every[-1:]


def render_gallery(runs, contents, out):
    """gallery.html: the images as files under gallery/, each linking to its cell; (chapter,
    file, alt text, link) of each."""
    titles = dict(contents.pages)
    figures, shown = [], []
    for run in runs:
        name = run.path.stem
        for n, (cell, mime, data, alt) in enumerate(gallery_images(run.nb), 1):
            file = f'gallery/{name}-{n}.{IMAGE_TYPES[mime]}'
            write_atomic(Path(out) / file, data)
            anchor = f'#cell-id={cell.id}' if cell.get('id') else ''
            title = html.escape(titles.get(name, name))
            words = alt or f'A result of {titles.get(name, name)}'
            shown.append((name, file, words, f'{name}.html{anchor}'))
            figures.append(f'<li><figure><a href="{name}.html{anchor}"><img src="{file}" '
                           f'alt="{html.escape(words)}" loading="lazy"></a>'
                           f'<figcaption>{link(name + ".html" + anchor, title)}</figcaption>'
                           f'</figure></li>')
    content = (f'<h1>Gallery</h1><p>Results of the chapters, as this build computed them. '
               f'Each links to the cell that drew it.</p>'
               f'<ul class="d2l-gallery">{"".join(figures)}</ul>')
    write_atomic(Path(out) / 'gallery.html',
                 page(f'Gallery - {contents.book.title}', content, contents))
    return shown


# ---- the download -------------------------------------------------------------------------

def book_files(root=ROOT, chapters=None, framework=FRAMEWORKS[0]):
    """(name in the zip, path) of everything ``framework``'s download holds: the ``chapters``
    (by default the book's) that have its tab, the package with that framework's generated code
    and its models, the images, the stored benchmarks, the configuration, the pins and a
    README."""
    root = Path(root)
    chapters = chapter_paths(load_book(root), root) if chapters is None else chapters
    chapters = [p for p in chapters
                if framework in frameworks_of(nbformat.read(p, as_version=4), p)]
    readme, pins, *extra = DOWNLOAD[framework]
    files = [('README.md', ASSETS / 'download' / readme)]
    files += [(name, root / name) for name in (pins, *extra, 'pyproject.toml', CONFIG)]
    files += [(p.relative_to(root).as_posix(), p) for p in
              list(chapters) + package_files(root, frameworks=(framework,))
              + sorted(p for p in (root / IMG).rglob('*') if p.is_file())
              + stored_results(root)]
    return [(f'{BOOK_FOLDER}/{name}', path) for name, path in files if path.exists()]


def notebook_bytes(path, solutions=False, framework=FRAMEWORKS[0]):
    """A chapter's tab of ``framework`` to download: without outputs, and without its
    solutions unless asked."""
    nb = stripped(for_framework(nbformat.read(path, 4), framework, path))
    return nbformat.writes(nb if solutions else for_students(nb)).encode()


def book_zip(root=ROOT, chapters=None, solutions=False, framework=FRAMEWORKS[0]):
    """The download of ``framework`` that runs each of its chapters once unpacked, the same
    bytes for the same files."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, 'w', zipfile.ZIP_DEFLATED) as archive:
        for name, path in book_files(root, chapters, framework):
            data = (notebook_bytes(path, solutions, framework) if path.suffix == '.ipynb'
                    else path.read_bytes())
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            archive.writestr(info, data, zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def files_beside(nb):
    """The files a chapter reads beside it (``../img/tubingen.jpg`` -> ``img/tubingen.jpg``)."""
    found = [m for cell in nb.cells if cell.cell_type == 'code' for m in BESIDE.findall(cell.source)]
    return list(dict.fromkeys(found))


def needs_line(nb, path, frameworks=FRAMEWORKS[:1]):
    """One line for the chapter page, per framework it has a tab for: what its notebook needs
    beside it, and where to get it; where the chapter has no tab of a framework, says so."""
    reads = ', '.join(f'<code>{html.escape(name)}</code>' for name in files_beside(nb))
    lines = []
    for framework in FRAMEWORKS:
        label = LABELS[framework]
        if framework not in frameworks:
            lines.append(f'<p class="d2l-needs d2l-missing d2l-tab-{framework}">This chapter has '
                         f'no {label} tab yet: its code is {LABELS[frameworks[0]]}\'s.</p>')
            continue
        download = link(book_zip_name(framework), f'the book&rsquo;s notebooks for {label}',
                        download='')
        notebook = Path(path).name  # its name in that download
        lines.append(f'<p class="d2l-needs d2l-tab-{framework}">To run this chapter yourself, '
                     f'get {download} (set-up in its README): it holds <code>{CHAPTERS}/'
                     f'{html.escape(notebook)}</code> with the <code>{PACKAGE}</code> package '
                     'beside it' + (f' and the files it reads, {reads}' if reads else '')
                     + '.</p>')
    return ''.join(lines)
