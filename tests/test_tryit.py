"""The Try-it page (builder/tryit.py, site/try.js): every shipped network as an ONNX model that
paints as MXNet's ``transform`` does, and the page painting a photograph in headless Chromium,
served over HTTP from 127.0.0.1, with nothing fetched from anywhere else."""
import base64
import io
import json
import os
import sys

import numpy as np
import pytest
from PIL import Image

from builder import ROOT, tryit
from builder.pdf import CHROMIUM
from d2lstyle import cli, networks, transfer

sys.path.insert(0, str(ROOT / 'benchmarks'))
import browser as browser_benchmark  # noqa: E402

ort = pytest.importorskip('onnxruntime')
onnx_export = pytest.importorskip('d2lstyle.onnx_export')

PHOTO = ROOT / 'img' / 'flower.jpg'  # 512x342: the page paints it at its own size


def onnx_run(model, img):
    """``model`` (ONNX bytes) over a PIL image, as the page runs it: pixels padded by
    reflection to multiples of 4, rounded after."""
    session = ort.InferenceSession(model, providers=['CPUExecutionProvider'])
    w, h = img.size
    x = np.asarray(img, np.float32).transpose(2, 0, 1)[None]
    x = np.pad(x, ((0, 0), (0, 0), (0, -h % 4), (0, -w % 4)), mode='reflect')
    y = session.run(None, {'image': x})[0][0, :, :h, :w]
    return np.round(y).transpose(1, 2, 0)


def transformed(model, path, tmp_path):
    out = tmp_path / f'{model}.png'
    assert cli.main(['transform', '--model', model, str(path), str(out),
                     '--framework', 'mxnet']) == 0
    return np.asarray(Image.open(out), dtype=float)


@pytest.mark.parametrize('model', networks.shipped())
def test_every_shipped_network_in_onnx_paints_as_transform_does(model, tmp_path):
    onnx_model = onnx_export.to_onnx(transfer.model_prefix(model), model).SerializeToString()
    ours = onnx_run(onnx_model, Image.open(PHOTO).convert('RGB'))
    theirs = transformed(model, PHOTO, tmp_path)
    assert np.abs(ours - theirs).max() <= 1  # a grey level of rounding
    assert np.abs(theirs - np.asarray(Image.open(PHOTO), float)).mean() > 10  # it painted


def test_a_graph_with_a_layer_the_network_lacks_is_refused(tmp_path):
    source = transfer.model_prefix('starry_night')
    graph = json.loads(open(f'{source}-symbol.json').read())
    graph['nodes'][8]['op'] = 'LeakyReLU'
    (tmp_path / 'odd-symbol.json').write_text(json.dumps(graph))
    (tmp_path / 'odd-0000.params').write_bytes(open(f'{source}-0000.params', 'rb').read())
    with pytest.raises(Exception, match="LeakyReLU .* is not a layer of chapter 6's"):
        onnx_export.to_onnx(tmp_path / 'odd')


def test_the_page_offers_one_network_per_painting_with_its_title():
    found = tryit.paintings(ROOT)
    assert [name for name, *_ in found] == ['starry_night', 'the_scream', 'great_wave',
                                            'shipwreck', 'woman_with_hat']
    assert found[0][1] == 'The Starry Night, Vincent van Gogh'
    assert all(path.exists() for *_, path in found)


# ---- the page in Chromium -------------------------------------------------------------------

@pytest.fixture(scope='module')
def tried(tmp_path_factory):
    """The site's frame with the Try-it page (no chapter executed), over HTTP on 127.0.0.1, as
    benchmarks/browser.py serves it."""
    out = browser_benchmark.build_site(tmp_path_factory.mktemp('site'))
    with browser_benchmark.served(out) as server:
        yield out, server


@pytest.fixture(scope='module')
def chromium():
    if not CHROMIUM.exists():
        if os.environ.get('CI') == 'true':
            pytest.fail(f'{CHROMIUM} is missing: CI must run the browser tests')
        pytest.skip(f'{CHROMIUM} is missing (apt-get install chromium)')
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM),
                                             args=['--no-sandbox', '--disable-gpu'])
        yield browser
        browser.close()


@pytest.fixture
def page(chromium, tried):
    """The Try-it page, with every request it and its worker make and its errors."""
    _, server = tried
    context = chromium.new_context(viewport={'width': 1280, 'height': 900})
    tab = context.new_page()
    tab.requests, tab.errors = [], []
    context.on('request', lambda request: tab.requests.append(request.url))
    tab.on('pageerror', lambda err: tab.errors.append(str(err)))
    tab.on('console', lambda msg: tab.errors.append(msg.text) if msg.type == 'error' else None)
    tab.goto(server + tryit.TRY_PAGE)
    yield tab
    context.close()


STATUS = "document.getElementById('d2l-status')"


def status_after(page, action, timeout=180_000):
    """The status line once ``action`` has led to a painted picture or an error."""
    action()
    page.wait_for_function(f"{STATUS}.textContent.startsWith('Painted') || "
                           f"{STATUS}.classList.contains('d2l-error')", timeout=timeout)
    return page.text_content('#d2l-status')


def canvas(page, name):
    data = page.evaluate(f"document.getElementById('{name}').toDataURL('image/png')")
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(data.split(',', 1)[1])))
                      .convert('RGB'), dtype=float)


@pytest.mark.browser
def test_the_page_paints_a_photograph_as_transform_does(page, tried, tmp_path):
    _, server = tried
    page.set_input_files('#d2l-file', str(PHOTO))
    page.wait_for_function("!document.getElementById('d2l-paint').disabled")
    page.check('input[value="the_scream"]')
    said = status_after(page, lambda: page.click('#d2l-paint'))
    assert said.startswith('Painted 512\u00d7342 in ') and 'WebAssembly, 1 thread' in said, said
    ours = canvas(page, 'd2l-painted')
    theirs = transformed('the_scream', PHOTO, tmp_path)
    assert ours.shape == theirs.shape
    assert np.abs(ours - theirs).max() <= 3  # grey levels: the same network, two runtimes
    # the strength slider blends with the photograph, without a second pass
    page.fill('#d2l-strength', '0')
    page.dispatch_event('#d2l-strength', 'input')
    assert np.abs(canvas(page, 'd2l-painted') - canvas(page, 'd2l-photo')).max() <= 1
    assert page.get_attribute('#d2l-download', 'download') == 'flower-the_scream.png'
    foreign = [url for url in page.requests
               if not url.startswith((server, 'data:', 'blob:'))]
    assert foreign == [] and page.errors == []
    assert any(url.endswith('.wasm') for url in page.requests)  # the runtime came from the site


@pytest.mark.browser
def test_a_file_that_is_not_an_image_gets_one_line_and_the_page_goes_on(page, tmp_path):
    fake = tmp_path / 'holiday.jpg'
    fake.write_text('not a photograph')
    page.set_input_files('#d2l-file', str(fake))
    page.wait_for_function(f"{STATUS}.classList.contains('d2l-error')")
    said = page.text_content('#d2l-status')
    assert said == ('holiday.jpg is not an image this browser can read: choose a JPEG, PNG or '
                    'WebP photograph.')
    assert page.is_disabled('#d2l-paint')
    page.click('button.d2l-photo[data-src$="flower.jpg"]')  # and then a photograph works
    page.wait_for_function("!document.getElementById('d2l-paint').disabled")
    assert not page.eval_on_selector('#d2l-status', 'e => e.classList.contains("d2l-error")')


@pytest.mark.browser
def test_the_benchmark_measures_at_a_tiny_size(chromium, tried, tmp_path):
    folder, _ = tried
    row = browser_benchmark.measure(chromium, folder, [64], 'starry_night', 1, tmp_path)['64']
    assert set(row) == {'page', 'page_isolated', 'transform_mxnet', 'transform_pytorch'}
    assert 'WebAssembly, 1 thread)' in row['page']['said']
    threads = min(4, os.cpu_count())  # cross-origin isolated: a thread a core, at most 4
    assert f'WebAssembly, {threads} thread' in row['page_isolated']['said']
    assert all(r['seconds'] > 0 for r in row.values())


@pytest.mark.browser
def test_a_new_photograph_during_a_run_discards_the_old_result(page, tmp_path):
    large = tmp_path / 'large.png'
    Image.open(ROOT / 'img' / 'tubingen.jpg').convert('RGB').save(large)  # 1024x768: seconds
    page.set_input_files('#d2l-file', str(large))
    page.select_option('#d2l-size', '1024')
    page.click('#d2l-paint')
    page.set_input_files('#d2l-file', str(PHOTO))  # while the network paints the first
    page.wait_for_function("!document.getElementById('d2l-paint').disabled", timeout=180_000)
    assert page.text_content('#d2l-status').startswith('flower.jpg: 512\u00d7342.')
    assert canvas(page, 'd2l-painted').shape == (342, 512, 3)
    assert page.is_hidden('#d2l-download')  # nothing painted of this photograph yet
    said = status_after(page, lambda: page.click('#d2l-paint'))
    assert said.startswith('Painted 512\u00d7342 in '), said


@pytest.mark.browser
def test_a_painter_that_cannot_start_gets_one_line_and_paint_again(page):
    page.route('**/try-worker.js', lambda route: route.fulfill(status=404, body='gone'))
    page.set_input_files('#d2l-file', str(PHOTO))
    said = status_after(page, lambda: page.click('#d2l-paint'), timeout=30_000)
    assert said.startswith('The painter could not start'), said
    assert page.is_enabled('#d2l-paint')


@pytest.mark.browser
def test_a_photograph_too_narrow_for_the_network_is_refused(page, tmp_path):
    banner = tmp_path / 'banner.png'
    Image.new('RGB', (2000, 40), 'white').save(banner)  # 512x10 at the default size
    page.set_input_files('#d2l-file', str(banner))
    page.wait_for_function(f"{STATUS}.classList.contains('d2l-error')")
    assert 'too narrow: each side needs at least 32 pixels' in page.text_content('#d2l-status')
    assert page.is_disabled('#d2l-paint')
