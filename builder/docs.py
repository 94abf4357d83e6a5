"""The front door's generated parts: the README's picture and tables of the user's guide and
the README.

The user's guide (``docs/guide.md``, a page of the site as ``guide.html``) and the README are
written by hand, except between the lines ``<!-- generated: NAME -->`` and ``<!-- end generated -->``,
which every build (and ``build.py --save-only``) rewrites from the program and the stored
benchmarks: each command's options from its own argument parser, so that the guide cannot
drift from ``--help``, and measured figures from the benchmarks' JSON, with the machine that
measured them. A test fails when the file in the repository differs from what the build
writes. The README's picture (``docs/readme.jpg``) is a photograph, a painting and the book's
own result of the two (the stored run of ``benchmarks/shipped_models.py``), side by side.
"""
import argparse
import io
import json
import re
from pathlib import Path

from PIL import Image

from builder import BENCHMARKS, IMG, ROOT, BuildError, write_atomic

DOCS = 'docs'
GUIDE = 'guide.md'
README = 'README.md'
PICTURE = 'readme.jpg'
# the README's picture: photograph, painting, and the planned `stylize --size 1200` of the two
PICTURE_PARTS = (f'{IMG}/tubingen.jpg', f'{IMG}/starry_night.jpg',
                 f'{BENCHMARKS}/shipped_models/tubingen_starry_night.jpg')
PICTURE_HEIGHT = 220
SECTION = re.compile(r'(<!-- generated: (.+?) -->\n).*?(<!-- end generated -->)', re.S)


def options_table(parser):
    """A markdown table of ``parser``'s arguments: as ``--help`` writes each, and its help."""
    formatter = parser._get_formatter()
    rows = ['| option | meaning |', '| --- | --- |']
    for action in parser._actions:
        if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
            continue
        invocation = formatter._format_action_invocation(action).replace('|', '\\|')
        meaning = ' '.join(formatter._expand_help(action).split()) if action.help else ''
        rows.append(f'| `{invocation}` | {meaning.replace("|", chr(92) + "|")} |')
    return '\n'.join(rows)


def memory_table(root=ROOT):
    """The peaks that benchmarks/memory.py measured, with its machine."""
    stored = json.loads((Path(root) / BENCHMARKS / 'memory.json').read_text())
    rows = ['| command | size | one pass | peak |', '| --- | --- | --- | --- |']
    for run in stored['runs']:
        what = f"`{run['command']}`" + (f" ({run['optimizer']})" if run.get('optimizer') else '')
        if 'crop' in run:
            size = f"crops of {run['crop']} px"
        else:
            size = f"long side {run['size']} px, {run['image_megapixels']:.2f} MP"
        tiled = run['megapixels'] < run.get('image_megapixels', 0)
        one_pass = f"{'a tile, ' if tiled else ''}{run['megapixels']:.2f} MP"
        rows.append(f"| {what} | {size} | {one_pass} | {run['peak_gb']:.1f} GB |")
    return '\n'.join(rows + ['', f"Measured by `benchmarks/memory.py` on {stored['machine']}."])


def browser_table(root=ROOT):
    """The seconds that benchmarks/browser.py measured: the Try-it page against transform."""
    stored = json.loads((Path(root) / BENCHMARKS / 'browser.json').read_text())
    rows = ['| long side | the page, one thread | the page, cross-origin isolated | '
            '`transform`, MXNet | `transform`, PyTorch |', '| --- | --- | --- | --- | --- |']
    for side, row in stored['sizes'].items():
        threads = re.search(r'(\d+) threads?\)', row['page_isolated']['said']).group(1)
        rows.append(f"| {side} px | {row['page']['seconds']:.2f} s | "
                    f"{row['page_isolated']['seconds']:.2f} s ({threads} threads) | "
                    f"{row['transform_mxnet']['seconds']:.2f} s | "
                    f"{row['transform_pytorch']['seconds']:.2f} s |")
    return '\n'.join(rows + ['', f"Measured by `benchmarks/browser.py` ({stored['model']}, the "
                                 f"median of {stored['repeats']} passes after one) on "
                                 f"{stored['machine']}, headless Chromium {stored['chromium']}."])


def fill(text, sections, path):
    """``text`` with each generated section replaced by ``sections[name]``."""
    def replace(match):
        name = match.group(2)
        if name not in sections:
            raise BuildError(f'{path}: no generated section is called {name!r}; use one of '
                             f'{", ".join(sorted(sections))}')
        return f'{match.group(1)}{sections[name]}\n{match.group(3)}'
    return SECTION.sub(replace, text)


def picture(root=ROOT):
    """The README's picture as JPEG bytes: its parts at one height, side by side."""
    parts = []
    for part in PICTURE_PARTS:
        with Image.open(Path(root) / part) as img:
            width = round(img.width * PICTURE_HEIGHT / img.height)
            parts.append(img.convert('RGB').resize((width, PICTURE_HEIGHT), Image.LANCZOS))
    gap = 8
    strip = Image.new('RGB', (sum(p.width for p in parts) + gap * (len(parts) - 1),
                              PICTURE_HEIGHT), 'white')
    x = 0
    for part in parts:
        strip.paste(part, (x, 0))
        x += part.width + gap
    data = io.BytesIO()
    strip.save(data, format='JPEG', quality=85, optimize=True)
    return data.getvalue()


def save_docs(sections, root=ROOT):
    """Rewrite the generated sections (``sections()`` gives them) of the guide and the README,
    and the README's picture, where they changed; the paths written. A book without them is
    left alone."""
    written = []
    for path in (Path(root) / DOCS / GUIDE, Path(root) / README):
        text = path.read_text() if path.exists() else None
        new = text and fill(text, sections(), path)
        if new != text:
            write_atomic(path, new)
            written.append(path)
    if all((Path(root) / part).exists() for part in PICTURE_PARTS):
        target, data = Path(root) / DOCS / PICTURE, picture(root)
        if not target.exists() or target.read_bytes() != data:
            write_atomic(target, data)
            written.append(target)
    return written
