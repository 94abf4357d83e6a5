"""builder/render.py: a chapter's HTML, with its images embedded and long outputs folded."""
import base64
import re

import nbformat
from nbformat.v4 import new_markdown_cell

from builder.execute import execute
from builder.render import FOLD_LINES, MATHJAX_URL, chapter_html
from conftest import DOT, notebook


def test_images_the_markdown_points_to_are_embedded(book):
    path = notebook(book / 'chapters', '01_a', new_markdown_cell('![dot](../img/dot.png)'))
    page = chapter_html(nbformat.read(path, as_version=4), path, 'A <title>')
    assert f'src="data:image/png;base64,{base64.b64encode(DOT).decode()}"' in page
    assert '<title>A &lt;title&gt;</title>' in page
    assert f'src="{MATHJAX_URL}"' in page  # the site's own copy (builder.site)
    assert not re.search(r'<script src="https?://', page)  # nothing from a CDN


def test_a_missing_markdown_image_is_reported(book, capsys):
    path = notebook(book / 'chapters', '01_a', new_markdown_cell('![x](../img/none.png)'))
    page = chapter_html(nbformat.read(path, as_version=4), path, 'A')
    assert 'src="../img/none.png"' in page
    assert 'warning: 01_a.ipynb: image ../img/none.png not found' in capsys.readouterr().err


def test_the_frame_goes_where_the_template_puts_it(book):
    path = notebook(book / 'chapters', '01_a', 'x = 1')
    frame = {'sidebar': '<nav id="s"></nav>', 'nav': '<nav id="n"></nav>',
             'needs': '<p id="w"></p>'}
    page = chapter_html(nbformat.read(path, as_version=4), path, 'A', frame)
    assert page.count('<nav id="n"></nav>') == 2  # above and below the chapter
    assert page.index('<nav id="s">') < page.index('<p id="w">') < page.index('Intro.')


def test_long_outputs_are_folded_short_ones_are_not(book):
    long_lines = FOLD_LINES + 1
    path = notebook(book / 'chapters', '01_a', 'print("short")',
                    f'for i in range({long_lines}):\n    print("line", i)',
                    'class Net:  # a printed network is a result, not a stream\n'
                    f'    def __repr__(self):\n        return "layer\\n" * {long_lines + 1}\nNet()')
    nb, _ = execute(path, 'quick', book / '_build' / 'executed', 60, root=book)
    body = chapter_html(nb, path, 'A')
    folded = re.findall(r'<details class="d2l-long"><summary>Output: (\d+) lines</summary>'
                        r'(.*?)</details>', body, re.S)
    assert [int(n) for n, _ in folded] == [long_lines, long_lines + 1]
    assert f'line {long_lines - 1}' in folded[0][1] and 'short' not in folded[0][1]
    assert 'short' in body


def test_a_link_to_another_chapter_opens_its_page_on_the_site(book):
    path = notebook(book / 'chapters', '01_a', new_markdown_cell(
        'See [the appendix](08_under_the_hood.ipynb#Reading-Images), '
        '[chapter 2](02_b.ipynb) and [a notebook file](data/02_b.ipynb).'))
    page = chapter_html(nbformat.read(path, as_version=4), path, 'A')
    assert 'href="08_under_the_hood.html#Reading-Images"' in page
    assert 'href="02_b.html"' in page
    assert 'href="data/02_b.ipynb"' in page  # not a chapter beside this one: left alone


def test_a_figures_words_become_its_alt_text(book):
    """d2lstyle.plot describes each figure a kernel shows (its panels' titles, else its axes)
    in the PNG's metadata, and the page writes that as the image's alt text."""
    from pathlib import Path
    from nbclient import NotebookClient
    code = ('%matplotlib inline\nimport numpy as np\nfrom matplotlib import pyplot as plt\n'
            'from d2lstyle.plot import show_images\n'
            'show_images([np.zeros((8, 8, 3), np.uint8)] * 2, ["content: Tübingen", "style: <waves>"])\n'
            'fig, ax = plt.subplots(); ax.plot([1, 2]); ax.set_xlabel("step"); ax.set_ylabel("loss")')
    path = notebook(book / 'chapters', '01_a', code)
    nb = nbformat.read(path, as_version=4)
    root = Path(__file__).resolve().parents[1]  # the real package, not the small book's
    NotebookClient(nb, kernel_name='python3').execute(env={**__import__('os').environ,
                                                          'PYTHONPATH': str(root)})
    page = chapter_html(nb, path, 'A')
    assert 'alt="Figure: content: Tübingen; style: &lt;waves&gt;"' in page
    assert 'alt="Figure: loss against step"' in page


def test_every_figure_of_chapter_1s_helpers_has_words():
    from PIL import Image
    from matplotlib import pyplot as plt
    from d2lstyle.plot import Animator, describe, draw_method, show_images
    img = Image.new('RGB', (64, 48))
    figures = [draw_method(img, img, img), show_images([img], ['content']), Animator(3).fig]
    words = [describe(fig) for fig in figures]
    for fig in figures:
        plt.close(fig)
    assert words[0].startswith('Figure: the method.') and 'conv4_4' in words[0]
    assert words[1] == 'Figure: content' and 'losses against the step' in words[2]
