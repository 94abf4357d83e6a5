"""The Try-it page: the shipped transform networks paint a reader's photograph in the browser,
with nothing installed. The build writes each painting's network as an ONNX model
(d2lstyle.onnx_export, from the shipped files), a thumbnail of each painting, the book's
photographs to start from, and onnxruntime-web (builder.npm), so that the site needs no CDN;
site/try.js drives the page and site/try-worker.js runs the network off the page's thread."""
import html
import io
import json
import shutil
from pathlib import Path

from PIL import Image

from builder import ASSETS, IMG, PACKAGE, write_atomic
from builder.npm import PACKAGES, npm_package
from d2lstyle.images import MIN_SIDE

TRY_PAGE = 'try.html'
FOLDER = 'try'  # the models, thumbnails and photographs, under the site
RUNTIME = '_static/ort'  # onnxruntime-web's files, under the site
PHOTOS = ('tubingen.jpg', 'flower.jpg')  # the book's photographs the page offers
PHOTO_SIDE = 1024  # their long side on the page
THUMB_SIDE = 160
# The sizes a reader may choose (the long side): one thread of a 2-core machine paints 512 pixels
# in under a second and 1024 in about three (benchmarks/browser.py).
SIZES = (256, 512, 768, 1024)
DEFAULT_SIZE = 512


def paintings(root):
    """(name, title, painting's path) of one shipped network per painting of the book (by its
    record's style image; of several, the shortest name: chapter 6's comparisons are longer)."""
    models, chosen = Path(root) / PACKAGE / 'models', {}
    for record in sorted(models.glob('*.json')):
        if record.name.endswith('-symbol.json'):
            continue
        style = json.loads(record.read_text()).get('settings', {}).get('style')
        path = Path(root) / style if style else None
        if path and path.exists() and (models / f'{record.stem}-symbol.json').exists():
            if path not in chosen or len(record.stem) < len(chosen[path]):
                chosen[path] = record.stem
    credits = credited(root)
    order = sorted(chosen.items(), key=lambda item: (credits.get(item[0].name, (1e9,))[0], item[1]))
    return [(name, ', '.join(credits[path.name][1:]) if path.name in credits else name, path)
            for path, name in order]


def upper_first(text):
    return text[:1].upper() + text[1:]


def credited(root):
    """{image: (its row, title, artist)} of the images img/CREDITS.md credits, in its order."""
    credits, found = Path(root) / IMG / 'CREDITS.md', {}
    for row, line in enumerate(credits.read_text().splitlines() if credits.exists() else ()):
        cells = [c.strip() for c in line.strip('|').split('|')]
        if len(cells) >= 3 and cells[0].split(' (')[0].endswith(('.jpg', '.png')):
            found[cells[0].split(' (')[0]] = (row, cells[1], cells[2].split(',')[0])
    return found


def available(root):
    """Whether this book can have the page: it ships networks of its paintings."""
    return bool(paintings(root))


def write_models(root, out):
    """Each painting's network as try/NAME.onnx and its thumbnail as try/NAME.jpg."""
    from d2lstyle.onnx_export import to_onnx
    for name, _, painting in paintings(root):
        model = to_onnx(Path(root) / PACKAGE / 'models' / name, name)
        write_atomic(Path(out) / FOLDER / f'{name}.onnx', model.SerializeToString())
        write_atomic(Path(out) / FOLDER / f'{name}.jpg', jpeg(painting, THUMB_SIDE))
    for photo in PHOTOS:
        path = Path(root) / IMG / photo
        if path.exists():  # as it is where it is small enough: the page paints the book's file
            small = max(Image.open(path).size) <= PHOTO_SIDE
            write_atomic(Path(out) / FOLDER / photo,
                         path.read_bytes() if small else jpeg(path, PHOTO_SIDE))


def jpeg(path, side):
    """The image at ``path``, its long side at most ``side``, as JPEG bytes."""
    img = Image.open(path).convert('RGB')
    img.thumbnail((side, side), Image.LANCZOS)
    data = io.BytesIO()
    img.save(data, 'JPEG', quality=90)
    return data.getvalue()


def copy_runtime(out):
    """onnxruntime-web's files that the page loads, from the npm cache."""
    source, target = npm_package('onnxruntime-web'), Path(out) / RUNTIME
    target.mkdir(parents=True, exist_ok=True)
    for file in PACKAGES['onnxruntime-web'][2]:
        shutil.copyfile(source / file, target / Path(file).name)
    for name in ('try.js', 'try-worker.js'):
        write_atomic(Path(out) / '_static' / name, (ASSETS / name).read_bytes())


def content(root):
    """The page's HTML, inside the book's frame."""
    choices = ''.join(
        f'<label class="d2l-painting"><input type="radio" name="painting" value="{name}"'
        f'{" checked" if i == 0 else ""}><img src="{FOLDER}/{name}.jpg" alt="">'
        f'<span>{html.escape(title)}</span></label>'
        for i, (name, title, _) in enumerate(paintings(root)))
    credits = credited(root)
    photos = ''.join(f'<button type="button" class="d2l-photo" data-src="{FOLDER}/{photo}">'
                     f'{html.escape(upper_first(credits.get(photo, (0, Path(photo).stem))[1]))}'
                     f'</button>' for photo in PHOTOS if (Path(root) / IMG / photo).exists())
    sizes = ''.join(f'<option value="{s}"{" selected" * (s == DEFAULT_SIZE)}>{s} pixels'
                    f'{" (slower)" * (s > 768)}</option>' for s in SIZES)
    settings = {'min_side': MIN_SIDE}  # what try.js checks, as the commands do
    return f'''<h1>Try it: paint your photograph</h1>
<p>Chapter 6's networks, one per painting, run here in your browser: your photograph is not
uploaded, and nothing is installed; the first Paint downloads the networks' runtime (about
15 MB, or 29 MB where WebGPU runs) and the painting's network (1.7 MB) from this site. Choose a photograph, a painting and
a size; the network paints it in one pass, at the size chosen (never larger than the
photograph), and the download is the picture as shown, at the strength chosen.</p>
<div class="d2l-try" data-models="{FOLDER}/" data-runtime="{RUNTIME}/">
<section aria-label="Photograph"><h2>1. A photograph</h2>
<div class="d2l-drop" tabindex="0">Drop a photograph here, or
<label class="d2l-file">choose one<input type="file" accept="image/*" id="d2l-file"></label>,
or take one of the book's: {photos}</div></section>
<section aria-label="Painting"><h2>2. A painting</h2>
<div class="d2l-paintings" role="radiogroup" aria-label="Painting">{choices}</div></section>
<section aria-label="Size"><h2>3. Paint</h2>
<p><label>Long side <select id="d2l-size">{sizes}</select></label>
<button type="button" id="d2l-paint" disabled>Paint</button></p>
<p id="d2l-status" role="status" aria-live="polite">Choose a photograph to start.</p></section>
<div class="d2l-result">
<figure><canvas id="d2l-photo" aria-label="Your photograph"></canvas>
<figcaption>Photograph</figcaption></figure>
<figure><canvas id="d2l-painted" aria-label="The painted photograph"></canvas>
<figcaption>Painted</figcaption></figure></div>
<p><label>Strength <input type="range" id="d2l-strength" min="0" max="100" value="100"
aria-describedby="d2l-strength-help"></label> <span id="d2l-strength-help">how much of the
painted picture to show over the photograph (no new pass)</span></p>
<p><a id="d2l-download" class="d2l-way" download hidden>Download the picture (PNG)</a></p>
</div>
<p>How it works: the build exports each network (<code>d2lstyle/models/</code>) to ONNX and
the page runs it with onnxruntime-web, on WebGPU where the browser offers it and otherwise on
WebAssembly, in a Web Worker so the page stays responsive. The page needs to be served over
HTTP (any static host, or <code>python -m http.server</code> in the site's folder); opened as a
file, the browser refuses to load the networks.</p>
<script type="application/json" id="d2l-try-settings">{json.dumps(settings)}</script>
<script src="_static/try.js"></script>'''
