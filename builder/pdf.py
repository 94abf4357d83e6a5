"""The whole book as one PDF, for reading offline and printing: a title page, the contents,
then the chapters in order, each from a new page, with their formulas typeset and their
figures as the chapters' runs drew them.

nbconvert's webpdf exporter prints one notebook with a Chromium that Playwright downloads;
here the chapters' pages (builder.render, without the site's frame) are joined into one
print document, and Debian's Chromium, the one the tests drive, prints it.
"""
import html
import re
import time
from pathlib import Path

from builder import BuildError, write_atomic
from builder.render import chapter_html

CHROMIUM = Path('/usr/bin/chromium')
BOOK_PDF = 'd2lstyle-book.pdf'
PRINT_HTML = 'd2lstyle-book-print.html'  # the document the PDF is printed from
MAIN = re.compile(r'<main>(.*)</main>', re.S)
PRINT_CSS = '''
@page { size: A4; margin: 18mm 16mm 20mm; }
body.d2l-print { display: block; }
.d2l-titlepage { break-after: page; text-align: center; padding-top: 35vh; }
.d2l-titlepage h1 { font-size: 2.4rem; }
.d2l-print-toc { break-after: page; }
.d2l-print-toc li { margin: 0.4rem 0; font-size: 1.1rem; }
.d2l-chapter { break-before: page; }
.jp-InputPrompt, .jp-OutputPrompt, .d2l-copy, a.anchor-link { display: none !important; }
.jp-InputArea, .jp-OutputArea-output img { break-inside: avoid; }  /* a cell may break */
img { max-width: 100%; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; }  /* paper does not scroll */
'''


def print_document(chapters, book, profile):
    """One HTML document of ``chapters`` ((name, title, executed nb, path) in order)."""
    parts, head = [], None
    for name, title, nb, path in chapters:
        page = chapter_html(nb, path, title)
        head = head or page[:page.index('<body')]
        parts.append(f'<article class="d2l-chapter" id="chapter-{name}">'
                     f'{MAIN.search(page).group(1)}</article>')
    byline = ''.join(f'<p>{html.escape(line)}</p>' for line in book.byline)
    contents = ''.join(f'<li><a href="#chapter-{name}">{html.escape(title)}</a></li>'
                       for name, title, _, _ in chapters)
    return (f'{head}<style>{PRINT_CSS}</style><body class="jp-Notebook d2l-book d2l-print">'
            f'<section class="d2l-titlepage"><h1>{html.escape(book.title)}</h1>{byline}'
            f'<p>Built on {time.strftime("%Y-%m-%d")} in the {profile} profile</p></section>'
            f'<nav class="d2l-print-toc"><h2>Contents</h2><ol>{contents}</ol></nav>'
            f'{"".join(parts)}</body></html>')


def render_pdf(chapters, book, profile, out):
    """Write the print document and the PDF printed from it into ``out``; the PDF's path."""
    out = Path(out)
    write_atomic(out / PRINT_HTML, print_document(chapters, book, profile))
    if not CHROMIUM.exists():
        raise BuildError(f'{CHROMIUM} not found: it prints the PDF; install it '
                         '(apt-get install chromium) or build without --pdf')
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM))
        page = browser.new_page()
        page.goto((out / PRINT_HTML).resolve().as_uri(), wait_until='load')
        page.wait_for_function('() => window.MathJax && MathJax.Hub', timeout=60_000)
        page.evaluate('() => new Promise(done => MathJax.Hub.Queue(done))')
        pdf = page.pdf(format='A4', print_background=True, display_header_footer=True,
                       header_template='<span></span>',
                       footer_template='<div style="font-size:8px;width:100%;text-align:center">'
                                       '<span class="pageNumber"></span></div>')
        browser.close()
    write_atomic(out / BOOK_PDF, pdf)
    return out / BOOK_PDF
