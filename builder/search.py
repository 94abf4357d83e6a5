"""Search across the site: minisearch (npm, pinned and checked, builder.npm) in the reader's
browser, over an index of every page's sections that the build writes as a script file, since
a ``fetch`` of a JSON file fails from ``file://``. A section is a heading with an id (nbconvert
gives chapters' headings theirs) and the text up to the next one; the site's script
(``site/book.js``) loads both on the first use of the search box and ranks nothing itself."""
import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

from builder import write_atomic
from builder.npm import npm_package

INDEX = '_static/search-index.js'  # in the site
LIBRARY = '_static/minisearch.js'
SECTION_CHARS = 12000  # of a section's text in the index: all of a long one's prose
TEX = re.compile(r'\$\$.+?\$\$|\$[^$]+\$', re.S)  # inline formulas may wrap a line
LEFT_OUT = ('anchor-link', 'jp-CodeCell', 'd2l-needs')  # classes of what the index leaves out
BLOCKS = {'p', 'div', 'li', 'pre', 'td', 'th', 'br', 'h1', 'h2', 'h3', 'h4', 'table', 'tr'}


class Sections(HTMLParser):
    """The sections of a page's ``<main>``: [anchor, heading, text] from each ``<h1>`` to
    ``<h3>`` that has an id; what comes before the first is the page's own (anchor and
    heading ''). Left out: scripts, styles, the headings' ¶ links, code cells (the prose says
    what a section is about; code would match every section that calls a name) and a
    chapter's note on what its notebook needs."""

    def __init__(self):
        super().__init__()
        self.found, self.heading, self.main = [['', '', '']], None, 0
        self.skipped = None  # [tag, how deep in it] of the element being left out

    def handle_starttag(self, tag, attrs):
        classes = dict(attrs).get('class') or ''
        if tag in BLOCKS:  # words of two blocks stay two words
            self.handle_data(' ')
        if self.skipped:
            self.skipped[1] += tag == self.skipped[0]
        elif tag in ('script', 'style') or any(c in classes for c in LEFT_OUT):
            self.skipped = [tag, 1]
        elif tag == 'main':
            self.main += 1
        elif self.main and tag in ('h1', 'h2', 'h3') and dict(attrs).get('id'):
            self.found.append([dict(attrs)['id'], '', ''])
            self.heading = tag

    def handle_endtag(self, tag):
        if tag in BLOCKS:
            self.handle_data(' ')
        if self.skipped:
            self.skipped[1] -= tag == self.skipped[0]
            self.skipped = self.skipped if self.skipped[1] else None
        elif tag == 'main':
            self.main -= 1
        elif tag == self.heading:
            self.heading = None

    def handle_data(self, data):
        if self.main and not self.skipped:
            self.found[-1][1 if self.heading else 2] += data


def sections(html):
    parser = Sections()
    parser.feed(html)
    return [(anchor, ' '.join(heading.split()), words(text))
            for anchor, heading, text in parser.found if anchor or text.strip()]


def words(text):
    """A section's text as the index keeps it: its formulas' TeX left out (it would show
    as such in a snippet), the rest's first SECTION_CHARS characters."""
    return ' '.join(TEX.sub(' ', text).split())[:SECTION_CHARS]


def write_search(out, pages):
    """The index of ``pages`` (file names in the site ``out``, with their titles) and the
    library, into the site."""
    documents = [{'id': f'{page}#{anchor}' if anchor else page, 'title': title,
                  'heading': heading or title, 'text': text}
                 for page, title in pages
                 for anchor, heading, text in sections((Path(out) / page).read_text())]
    write_atomic(Path(out) / INDEX, 'window.d2lSearchDocuments = '
                 + json.dumps(documents, ensure_ascii=False, separators=(',', ':')) + ';\n')
    shutil.copyfile(npm_package('minisearch') / 'dist' / 'umd' / 'index.js', Path(out) / LIBRARY)
