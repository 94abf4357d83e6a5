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
BLOCKS = {'p', 'div', 'li', 'pre', 'td', 'th', 'br', 'h1', 'h2', 'h3', 'h4', 'table', 'tr'}


class Sections(HTMLParser):
    """The sections of a page's ``<main>``: [anchor, heading, text] from each ``<h1>`` to
    ``<h3>`` that has an id, without the headings' ¶ links, scripts, styles and code cells
    (the prose says what a section is about; code would match every section that calls a
    name); what comes before the first is the page's own (anchor and heading '')."""

    def __init__(self):
        super().__init__()
        self.found, self.heading, self.depth, self.skip = [['', '', '']], None, 0, 0
        self.code = 0  # the depth of <div> inside a code cell: its code and outputs are skipped
        self.needs = False  # inside a chapter's note on what its notebook needs: not its topic

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in BLOCKS:  # words of two blocks stay two words
            self.handle_data(' ')
        if tag == 'div' and (self.code or 'jp-CodeCell' in (attrs.get('class') or '')):
            self.code += 1
        if tag == 'p' and 'd2l-needs' in (attrs.get('class') or ''):
            self.needs = True
        if tag == 'main':
            self.depth += 1
        elif tag in ('script', 'style') or 'anchor-link' in (attrs.get('class') or ''):
            self.skip += 1
        elif self.depth and tag in ('h1', 'h2', 'h3') and attrs.get('id'):
            self.found.append([attrs['id'], '', ''])
            self.heading = tag

    def handle_endtag(self, tag):
        if tag in BLOCKS:
            self.handle_data(' ')
        if tag == 'div' and self.code:
            self.code -= 1
        if tag == 'p':
            self.needs = False
        if tag == 'main':
            self.depth -= 1
        elif tag in ('script', 'style') or (tag == 'a' and self.skip):
            self.skip = max(0, self.skip - 1)
        elif tag == self.heading:
            self.heading = None

    def handle_data(self, data):
        if not self.depth or self.skip or self.code or self.needs:
            return
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
