"""The real book: every chapter runs in the quick profile and the site shows its results."""
import re
import subprocess
import sys

import nbformat
import pytest

import build
from d2lstyle import profiles

pytestmark = pytest.mark.slow


@pytest.fixture(scope='module')
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp('site')
    done = subprocess.run([sys.executable, 'build.py', '--profile', 'quick', '--out', str(out)],
                          cwd=build.ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip().splitlines()[-1] == str(out / 'index.html')
    return out


def executed(path):
    return nbformat.read(build.BUILD / 'executed' / 'quick' / path.name, as_version=4)


def test_every_chapter_has_a_page_and_a_download(site):
    index = (site / 'index.html').read_text()
    for path in build.find_chapters():
        assert f'href="{path.stem}.html"' in index
        assert (site / f'{path.stem}.html').stat().st_size > 10_000
        assert build.check_clean(site / path.name) == []
    assert 'Tübingen' in (site / 'credits.html').read_text()


def test_no_cell_produced_an_error(site):
    for path in build.find_chapters():
        errors = [o for c in executed(path).cells if c.cell_type == 'code'
                  for o in c.outputs if o.output_type == 'error']
        assert errors == [], path.name


def test_chapter_1_shows_both_stages_and_its_figures(site):
    path = build.CHAPTERS / '01_neural_style.ipynb'
    nb = executed(path)
    text = '\n'.join(o.get('text', '') for c in nb.cells if c.cell_type == 'code'
                     for o in c.outputs)
    stages = profiles.PROFILES['quick'].stages
    for stage in stages:
        width, height = stage.image_shape
        assert f'{width}x{height}, epoch {stage.num_epochs}/{stage.num_epochs}' in text
    finals = re.findall(r'final weighted losses \(content, style, TV\): ([\d.e+-]+), '
                        r'([\d.e+-]+), ([\d.e+-]+)', text)
    assert len(finals) == 2
    pngs = [o for c in nb.cells if c.cell_type == 'code' for o in c.outputs
            if 'image/png' in o.get('data', {})]
    assert len(pngs) >= 5  # the two images, two live plots, the frames, the result
    page = (site / f'{path.stem}.html').read_text()
    assert page.count('src="data:image/png;base64,') >= 5


def test_chapter_2_checks_the_fast_step_then_trains_with_it(site):
    nb = executed(build.CHAPTERS / '02_fast_step.ipynb')
    text = '\n'.join(o.get('text', '') for c in nb.cells if c.cell_type == 'code'
                     for o in c.outputs)
    pairs = re.findall(r'(content|style|TV|total): chapter 1 ([\d.e+-]+), StyleLoss ([\d.e+-]+)',
                       text)
    assert [name for name, _, _ in pairs] == ['content', 'style', 'TV', 'total']
    for _, slow, fast in pairs:
        assert float(fast) == pytest.approx(float(slow), rel=1e-4)
    assert re.search(r'chapter 1 [\d.]+ s/step, StyleLoss [\d.]+ s/step', text)
    for stage in profiles.PROFILES['quick'].stages:
        width, height = stage.image_shape
        assert f'{width}x{height}, epoch {stage.num_epochs}/{stage.num_epochs}' in text
    assert re.search(r'1200x800\s+fast\s+[\d.]+', text)  # the stored benchmark table
