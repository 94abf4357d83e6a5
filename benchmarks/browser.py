"""The Try-it page's network in headless Chromium against ``d2lstyle transform``, on one machine.

    .venv/bin/python benchmarks/browser.py [--sizes 512 1024] [--model starry_night]

Paints the Tübingen photograph, its long side at each size, with one shipped network:

* in the page (builder/tryit.py) served over HTTP from 127.0.0.1, as a static host serves it
  (WebAssembly on one thread), and with the COOP and COEP headers that make the page
  cross-origin isolated, which lets WebAssembly use threads (as many as the machine's cores, at
  most 4); each the inference's seconds as the page's worker measures them, the median of
  ``--repeats`` after one that loads the runtime and the network;
* with ``d2lstyle transform``'s own code on each framework (``transfer.load``), the median of
  ``--repeats`` after one.

Writes ``benchmarks/browser.json``; the README quotes it.
"""
import argparse
import contextlib
import functools
import http.server
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault('OMP_NUM_THREADS', str(os.cpu_count() or 1))
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from d2lstyle.atomic import write_json  # noqa: E402

PHOTO = ROOT / 'img' / 'tubingen.jpg'
CHROMIUM = '/usr/bin/chromium'
STATUS = "document.getElementById('d2l-status')"


class Handler(http.server.SimpleHTTPRequestHandler):
    """A static host; with ``isolated``, one that sends COOP and COEP."""
    isolated = False
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map,
                      '.mjs': 'text/javascript', '.wasm': 'application/wasm'}

    def end_headers(self):
        if self.isolated:
            self.send_header('Cross-Origin-Opener-Policy', 'same-origin')
            self.send_header('Cross-Origin-Embedder-Policy', 'require-corp')
        super().end_headers()

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def served(folder, isolated=False):
    """``folder`` over HTTP on 127.0.0.1 (an ephemeral port): its address."""
    handler = type('Served', (Handler,), {'isolated': isolated})
    httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0),
                                            functools.partial(handler, directory=str(folder)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f'http://127.0.0.1:{httpd.server_address[1]}/'
    finally:
        httpd.shutdown()
        httpd.server_close()


def build_site(out):
    """The site's frame with the Try-it page, no chapter executed."""
    import nbformat
    from builder import site
    from builder.config import chapter_paths, load_book
    from builder.notebooks import title_of
    pages = [(p.stem, title_of(nbformat.read(p, 4), p)) for p in chapter_paths(load_book(ROOT))]
    site.render([], out, pages)
    return out


def photo_at(side, folder):
    """The Tübingen photograph with its long side ``side``, as a PNG (no JPEG decoder between)."""
    from PIL import Image
    img = Image.open(PHOTO).convert('RGB')
    img = img.resize((side, round(side * img.height / img.width)), Image.BICUBIC)
    path = Path(folder) / f'tubingen-{side}.png'
    img.save(path)
    return path


def page_seconds(browser, server, photo, side, model, repeats):
    """The worker's inference seconds of each pass, and the status line of the last."""
    from builder.tryit import SIZES, TRY_PAGE
    page = browser.new_page()
    page.goto(server + TRY_PAGE)
    page.set_input_files('#d2l-file', str(photo))
    # the smallest size the page offers that paints the photograph as it is (it never enlarges)
    page.select_option('#d2l-size', str(min((s for s in SIZES if s >= side), default=max(SIZES))))
    page.check(f'input[value="{model}"]')
    times = []
    for _ in range(repeats + 1):  # the first loads the runtime and the network
        page.wait_for_function("!document.getElementById('d2l-paint').disabled")
        page.evaluate(f"{STATUS}.textContent = ''")
        page.click('#d2l-paint')
        page.wait_for_function(f"{STATUS}.textContent.startsWith('Painted') || "
                               f"{STATUS}.classList.contains('d2l-error')", timeout=600_000)
        said = page.text_content('#d2l-status')
        if not said.startswith('Painted'):
            raise SystemExit(f'the page failed: {said}')
        times.append(float(page.get_attribute('.d2l-try', 'data-seconds')))
    page.close()
    return times[1:], said


def command_seconds(framework_name, side, model, repeats):
    """``d2lstyle transform``'s code on ``framework_name``: seconds of each pass after one."""
    from PIL import Image
    from d2lstyle import runtime, transfer
    framework = runtime.framework(framework_name)
    stylize_photo = transfer.load(framework, model, framework.device('cpu'))
    img = Image.open(photo_at(side, tempfile.mkdtemp())).convert('RGB')
    stylize_photo(img)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        stylize_photo(img)
        times.append(time.perf_counter() - start)
    return times


def measure(browser, folder, sizes, model, repeats, work):
    """{size: {row: {seconds, timed[, said]}}} of the page, served plainly and isolated, and
    of the command's code on each framework."""
    from d2lstyle import frameworks
    found = {}
    for side in sizes:
        photo, row = photo_at(side, work), {}
        for isolated in (False, True):
            with served(folder, isolated) as server:
                times, said = page_seconds(browser, server, photo, side, model, repeats)
            row['page_isolated' if isolated else 'page'] = {
                'seconds': statistics.median(times), 'timed': times, 'said': said}
        for name in frameworks.NAMES:
            times = command_seconds(name, side, model, repeats)
            row[f'transform_{name}'] = {'seconds': statistics.median(times), 'timed': times}
        found[str(side)] = row
        print(f'{side}: ' + ', '.join(f'{k} {v["seconds"]:.2f} s' for k, v in row.items()))
    return found


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--sizes', type=int, nargs='+', default=[512, 1024])
    parser.add_argument('--model', default='starry_night')
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--out', type=Path, default=ROOT / 'benchmarks' / 'browser.json')
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright
    from d2lstyle import runtime
    work = Path(tempfile.mkdtemp(prefix='d2lstyle-browser-'))
    report = {**runtime.measured_on(runtime.framework('mxnet')), 'model': args.model,
              'repeats': args.repeats}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM,
                                             args=['--no-sandbox', '--disable-gpu'])
        report['chromium'] = browser.version
        report['sizes'] = measure(browser, build_site(work / 'site'), args.sizes, args.model,
                                  args.repeats, work)
        browser.close()
    write_json(args.out, report)
    print(f'{report["machine"]}; Chromium {report["chromium"]}; wrote {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
