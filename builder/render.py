"""A chapter's page: nbconvert's HTML of the executed notebook in the book's template, with
the images it points to embedded and long text outputs folded (by the template)."""
import base64
import copy
import html
import mimetypes
import re
import sys
from pathlib import Path
from urllib.parse import unquote

from nbconvert import HTMLExporter

from builder import ASSETS
from builder.tabs import head_html

MATHJAX = 'mathjax'  # the site's folder of MathJax, which travels with it
MATHJAX_URL = f'{MATHJAX}/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe'
FOLD_LINES = 30  # a longer text output is folded under a summary
# A relative src: no scheme (http:, data:), so a file beside the notebook
IMG_SRC = re.compile(r'(<img\b[^>]*?\bsrc=")([^":]+)(")')
# A markdown link from one chapter to another: to its notebook in Jupyter, its page on the site
CHAPTER_LINK = re.compile(r'\]\((\d+_[\w-]+)\.ipynb([#)])')


def chapter_html(nb, path, title, frame=None):
    """nbconvert's lab page in the book's frame (``frame``: the sidebar, nav and needs HTML)."""
    exporter = HTMLExporter(template_name='book', mathjax_url=MATHJAX_URL,
                            extra_template_basedirs=[str(ASSETS / 'templates')])
    d2l = dict({'sidebar': '', 'nav': '', 'needs': '', 'head': head_html()}, **(frame or {}),
               fold_lines=FOLD_LINES)
    body, _ = exporter.from_notebook_node(site_links(nb), resources={'metadata': {'name': title},
                                                                     'd2l': d2l})
    return embed_images(body, path)


def site_links(nb):
    """A copy of ``nb`` whose markdown links to another chapter's notebook go to its page."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type == 'markdown':
            cell.source = CHAPTER_LINK.sub(r'](\1.html\2', cell.source)
    return nb


def embed_images(body, path):
    """Put the files that <img> tags point to (../img/...) into the page as data URIs.

    nbconvert's own embed_images refuses files outside the notebook's folder, and img/ is.
    """
    folder = Path(path).resolve().parent

    def data_uri(match):
        src = unquote(html.unescape(match.group(2)))
        file = (folder / src).resolve()
        if not file.is_file() or folder.parent not in file.parents:
            print(f'warning: {Path(path).name}: image {src} not found', file=sys.stderr)
            return match.group(0)
        mime = mimetypes.guess_type(file.name)[0] or 'application/octet-stream'
        data = base64.b64encode(file.read_bytes()).decode()
        return f'{match.group(1)}data:{mime};base64,{data}{match.group(3)}'
    return IMG_SRC.sub(data_uri, body)
