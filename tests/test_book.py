"""The real book: every chapter runs in the test profile and the site shows its results.

The chapters run on two stand-in GPUs (conftest.BOOK_BUILD), so an array or a network left on
the default context fails the build as it would on a GPU.
"""
import json
import re
import subprocess
import sys

import nbformat
import pytest

from builder import BUILD, CHAPTERS, ROOT
from builder.execute import EXECUTED, executed_folder
from builder.notebooks import check_clean, find_chapters
from builder.site import book_zip_name
from builder.tabs import FRAMEWORKS, frameworks_of, suffixed
from conftest import BOOK_BUILD, TEST_PROFILE
from d2lstyle import profiles

pytestmark = pytest.mark.slow


@pytest.fixture(scope='module')
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp('site')
    done = subprocess.run([sys.executable, *BOOK_BUILD, '--out', str(out)],
                          cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip().splitlines()[-1] == str(out / 'index.html')
    return out


def executed(path, framework=FRAMEWORKS[0]):
    """The chapter's tab of ``framework`` as the book's build executed it."""
    folder = ROOT / BUILD / EXECUTED / executed_folder(TEST_PROFILE, framework)
    return nbformat.read(folder / path.name, as_version=4)


def tabs():
    """(path, framework) of every tab of every chapter."""
    return [(p, f) for p in find_chapters() for f in frameworks_of(nbformat.read(p, 4), p)]


def printed(nb):
    """Everything the notebook's code cells printed, a cell's outputs joined as printed (one
    print may arrive in several stream outputs, depending on when the kernel flushed)."""
    return '\n'.join(''.join(o.get('text', '') for o in c.outputs)
                     for c in nb.cells if c.cell_type == 'code')


def test_every_chapter_has_a_page_and_a_download(site):
    index = (site / 'index.html').read_text()
    for path in find_chapters():
        assert f'href="{path.stem}.html"' in index
        assert (site / f'{path.stem}.html').stat().st_size > 10_000
        assert check_clean(site / path.name) == []
    assert 'Tübingen' in (site / 'credits.html').read_text()


def test_no_cell_of_any_tab_produced_an_error(site):
    assert ('01_neural_style', 'pytorch') in [(p.stem, f) for p, f in tabs()]
    for path, framework in tabs():
        errors = [o for c in executed(path, framework).cells if c.cell_type == 'code'
                  for o in c.outputs if o.output_type == 'error']
        assert errors == [], (path.name, framework)


def test_each_tab_has_its_notebook_slides_and_download_on_the_site(site):
    for path, framework in tabs():
        name = suffixed(path.stem, '.ipynb', framework)
        assert check_clean(site / name) == [] and (site / suffixed(path.stem, '.slides.html',
                                                                   framework)).exists()
        assert f'href="{name}"' in (site / f'{path.stem}.html').read_text()
    assert (site / book_zip_name('pytorch')).stat().st_size > 100_000


@pytest.mark.parametrize('framework', FRAMEWORKS)
def test_chapter_1_shows_both_stages_and_its_figures(site, framework):
    path = ROOT / CHAPTERS / '01_neural_style.ipynb'
    nb = executed(path, framework)
    text = printed(nb)
    stages = profiles.PROFILES[TEST_PROFILE].stages
    for stage in stages:
        width, height = stage.image_shape
        assert f'{width}x{height}, step {stage.num_steps}/{stage.num_steps}' in text
    finals = re.findall(r'final weighted losses \(content, style, TV\): ([\d.e+-]+), '
                        r'([\d.e+-]+), ([\d.e+-]+)', text)
    assert len(finals) == len(stages)
    # a patch-shuffled photograph keeps nearly the Gram matrices of the photograph, not its features
    rows = re.findall(r"(conv\d_1): features ([\d.]+), Gram matrix ([\d.]+) from the photo's "
                      r"\(the painting's Gram matrix: ([\d.]+)\)", text)
    assert [name for name, *_ in rows] == ['conv1_1', 'conv2_1', 'conv3_1', 'conv4_1', 'conv5_1']
    for name, features, shuffled, painting in rows:
        assert float(shuffled) < float(features) and float(shuffled) < float(painting), name
    assert float(rows[0][2]) < 0.1 * float(rows[0][1])  # conv1_1: nearly the same Gram matrix
    assert re.search(r'conv4_4 \(content layer\): features [\d.]+', text)
    # the style layers' sizes, losses and the factor C^2/4 between our loss and Gatys's E_l
    table = re.findall(r'^\s+(conv\d_1)\s+(\d+)\s+(\d+)\s+(\d+)\s+([\d.e+-]+)\s+([\d.e+-]+)'
                       r'\s+(\d+)\s+(\d+)\s+(\d+)$', text, re.M)
    assert [int(row[1]) for row in table] == [64, 128, 256, 512, 512]
    assert [int(row[6]) for row in table] == [int(row[1]) ** 2 // 4 for row in table]
    assert [int(row[7]) for row in table] == [1, 4, 16, 64, 64]        # Gatys, relative to conv1_1
    assert [int(row[8]) for row in table] == [1, 8, 48, 384, 512]      # TensorFlow 1's weights
    assert sum(float(row[5]) for row in table) < sum(float(row[4]) for row in table)
    shares = [float(v) for v in re.search(r'share of the style loss at the start, ours: (.*)', text)
              .group(1).replace('%', '').split()]
    assert len(shares) == 5 and max(shares) > 50  # one layer carries most of it, as the text says
    final = [float(v) for v in re.search(r'share of the style loss at the end, ours: (.*)', text)
             .group(1).replace('%', '').split()]
    assert max(final) < max(shares)  # ... and its share falls during training
    pngs = [o for c in nb.cells if c.cell_type == 'code' for o in c.outputs
            if 'image/png' in o.get('data', {})]
    assert len(pngs) >= 7  # the two images, the method, the Gram matrices, two live plots,
    # the frames, the result
    page = (site / f'{path.stem}.html').read_text()
    assert page.count('src="data:image/png;base64,') >= 7


def test_chapter_2_checks_the_hybridized_step_then_trains_with_it(site):
    nb = executed(ROOT / CHAPTERS / '02_hybridized_step.ipynb')
    text = printed(nb)
    pairs = re.findall(r'(content|style|TV|total): chapter 1 ([\d.e+-]+), StyleLoss ([\d.e+-]+)',
                       text)
    assert [name for name, _, _ in pairs] == ['content', 'style', 'TV', 'total']
    for _, chapter1, hybridized in pairs:
        assert float(hybridized) == pytest.approx(float(chapter1), rel=1e-4)
    assert re.search(r'chapter 1 [\d.]+ s/step, StyleLoss [\d.]+ s/step', text)
    for stage in profiles.PROFILES[TEST_PROFILE].stages:
        width, height = stage.image_shape
        assert f'{width}x{height}, step {stage.num_steps}/{stage.num_steps}' in text
    assert re.search(r'1200x800\s+hybridized\s+[\d.]+', text)  # the stored benchmark table
    assert re.search(r'one step at 1200x800: [\d.]+ TFLOP', text)


def test_chapter_2s_pytorch_tab_checks_the_compiled_step_then_trains_with_it(site):
    text = printed(executed(ROOT / CHAPTERS / '02_hybridized_step.ipynb', 'pytorch'))
    rows = re.findall(r'(content|style|TV|total): chapter 1 ([\d.e+-]+), StyleLoss ([\d.e+-]+), '
                      r'compiled ([\d.e+-]+)', text)
    assert [name for name, *_ in rows] == ['content', 'style', 'TV', 'total']
    for _, chapter1, eager, compiled in rows:
        assert float(eager) == pytest.approx(float(chapter1), rel=1e-4)
        assert float(compiled) == pytest.approx(float(chapter1), rel=1e-4)
    assert re.search(r'traced and compiled the module in \d+ s', text)
    assert re.search(r'chapter 1 [\d.]+ s/step, StyleLoss [\d.]+ s/step, compiled [\d.]+ s/step',
                     text)
    for stage in profiles.PROFILES[TEST_PROFILE].stages:
        width, height = stage.image_shape
        assert f'{width}x{height}, step {stage.num_steps}/{stage.num_steps}' in text


@pytest.mark.parametrize('framework', FRAMEWORKS)
def test_chapter_3_runs_every_optimiser_and_times_them(site, framework):
    text = printed(executed(ROOT / CHAPTERS / '03_optimizers.ipynb', framework))
    assert 'minimiser [1. 1.]' in text
    totals = dict(re.findall(r'^([\w ,.=-]+): total ([\d.e+-]+|inf|nan) ', text, re.M))
    for name in ['Adam from content', 'Adam from noise', 'L-BFGS', 'SGD lr=1', 'SGD, normalised']:
        assert float(totals[name]) < 1e3, name
    diverged = re.search(r'SGD lr=3: total (inf|nan) .* after (\d+) evaluations', text)
    assert diverged and int(diverged.group(2)) < profiles.PROFILES[TEST_PROFILE].compare.num_steps
    assert re.search(r'L-BFGS:\s+\d+ evaluations,\s+[\d.]+ s', text)
    assert re.search(r"L-BFGS reached Adam's final loss after \d+ evaluations", text)
    bounds = re.search(r'sparse worst case ([\d.]+) eta, bound ([\d.]+) eta, '
                       r'growing gradient ([\d.]+) eta', text)
    sparse, bound, growing = (float(v) for v in bounds.groups())
    assert sparse == pytest.approx(3.16, abs=0.01)  # Kingma and Ba's (1 - beta1) / sqrt(1 - beta2)
    assert sparse < 0.99 * bound <= growing <= bound  # a growing gradient comes close to the bound
    # the stored print-size run, with its tiles and seam measure
    assert re.search(r'\d+x\d+ in \d+ minutes .*peak memory [\d.]+ GB; last stage in \d+ '
                     r'tiles of \d+x\d+, seam ratio [\d.]+', text)
    scored = re.search(r'the print-size picture: the loss at (\d+) px over that of the (\d+) px '
                       r'reference enlarged to \1 px \(bicubic\): ([\d.]+); LPIPS to the '
                       r'reference ([\d.]+)', text)
    assert scored and int(scored.group(2)) < int(scored.group(1))
    assert 0 < float(scored.group(3)) < 1 and 0 < float(scored.group(4)) < 1  # below the bar
    assert re.search(r"its last stage's last \d+ evaluations lowered the loss by [\d.]+%", text)
    # the picture's loss, minimised, is the saved picture's (up to the rounding to 8 bits)
    ends = {name: (end, saved) for name, end, saved in re.findall(
        r'minimising the loss of the (image|picture): ([\d.e+-]+) at the end, ([\d.e+-]+) for '
        r'the saved picture', text)}
    minimised, saved = map(float, ends['picture'])
    assert set(ends) == {'image', 'picture'} and saved == pytest.approx(minimised, rel=0.01)
    # resampling the minimiser multiplies its style loss, far more than its content loss
    resized = [tuple(map(float, r)) for r in re.findall(
        r'through \d+x\d+: total [\d.e+-]+, content [\d.e+-]+ \(x([\d.]+)\), style [\d.e+-]+ '
        r'\(x([\d.]+)\)', text)]
    assert len(resized) == 3
    assert re.search(r'as it is: total .* \(x1\.00\), style .* \(x1\.00\)', text)
    (_, quarter), (content_factor, style_factor), (_, half) = resized
    assert 1 < quarter < style_factor < half and style_factor > 2 * content_factor
    # the stored time-to-quality runs: each pair's reference, and every run scored against it
    assert re.search(r"the reference picture's loss [\d.]+ \(content", text)
    stored = json.loads((ROOT / 'benchmarks' / 'time_to_quality.json').read_text())['pairs']
    assert re.findall(r'^  measured on (\d+ cores of .+, \d+ GPUs)$', text, re.M) == [
        pair['machine'] for pair in stored]  # each pair names its own machine
    scale = re.search(r'LPIPS at \d+ px: ([\d.]+) from the Tübingen photograph to a Gaussian '
                      r'blur of it \(radius \d+ px\), ([\d.]+) to The Starry Night', text)
    assert scale and 0 < float(scale.group(1)) < float(scale.group(2)) < 1
    assert re.search(r'its last \d+ evaluations lowered the loss by [\d.]+%', text)
    row = r'^ +(reference|plan|pyramid, Adam last|reference twin) +(\d+) +([\d.]+) +([\d.]+) '
    rows = re.findall(row, text, re.M)
    assert {name for name, *_ in rows} == {'reference', 'plan', 'pyramid, Adam last',
                                           'reference twin'}
    assert all((float(loss), float(lpips)) == (1.0, 0.0)
               for name, _, loss, lpips in rows if name == 'reference')
    # as the prose says: no run but the reference within the LPIPS limit, and the twin within
    # that of the loss and nearer to the reference than the plan of its pair (the flower's)
    limits = json.loads((ROOT / 'benchmarks' / 'time_to_quality.json').read_text())['limits']
    assert all(float(lpips) > limits['lpips'] for name, _, _, lpips in rows
               if name != 'reference')
    header = r'[^\n]+ \+ [^\n]+: one full-size step'
    flower = re.search(rf'^(?:\S*/)?flower\.jpg \+ [^\n]+: one full-size step.*?(?=^\S{header}|\Z)',
                       text, re.M | re.S)
    assert flower, 'no table of the flower pair'
    scores = {name: (float(loss), float(lpips))
              for name, _, loss, lpips in re.findall(row, flower.group(0), re.M)}
    twin, plan = scores['reference twin'], scores['plan']
    assert twin[0] <= limits['objective'] and twin[1] < plan[1]
    # each run's stages, and when the plan's loss came within the limit
    assert re.search(r"^  plan: [\d, ]+ evaluations of L-BFGS at [\d, ]+ px\n +its loss first "
                     r"came within [\d.]+ times the reference's after \d+ evaluations", text, re.M)


def test_chapter_3s_pytorch_tab_checks_its_lbfgs_against_torch_and_scipy(site):
    text = printed(executed(ROOT / CHAPTERS / '03_optimizers.ipynb', 'pytorch'))
    found = dict(re.findall(r'^\s*(lbfgs \(this chapter\)|torch\.optim\.LBFGS|scipy L-BFGS-B): '
                            r'minimiser \[([\d. ]+)\]', text, re.M))
    assert len(found) == 3, text[:2000]
    for name, minimiser in found.items():
        assert [float(v) for v in minimiser.split()] == pytest.approx([1, 1], abs=1e-4), name


@pytest.mark.parametrize('framework', FRAMEWORKS)
def test_chapter_4_runs_every_preset_and_judges_them(site, framework):
    text = printed(executed(ROOT / CHAPTERS / '04_layers.ipynb', framework))
    rows = {}
    for name in ['d2l', 'keras-tutorial', 'gatys-tf1', 'vgg16-conv5_2', 'd2l, average pooling',
                 'd2l on VGG-16', 'content conv4_2', 'content conv4_4', 'content conv5_2']:
        row = re.search(rf'^\s*{re.escape(name)} +([\d.]+) +([\d.]+) +([\d.]+)', text, re.M)
        assert row, name
        rows[name] = tuple(map(float, row.groups()))
    for name, (content, style, seconds) in rows.items():
        # the judge's units: the photograph scores content 0, the painting 1; every result starts
        # from the photograph (gatys-tf1: 40% of it) and keeps a content loss, so lies between
        assert 0 < content < 1, (name, content)
    for name in ['d2l', 'keras-tutorial', 'gatys-tf1', 'vgg16-conv5_2']:
        # the table's time is the run's own, which the cell that ran it printed
        assert re.search(rf'^{re.escape(name)}: {rows[name][2]:.1f} s$', text, re.M), name
    # chapter 1's setting moves the photograph toward the painting (the photograph scores 1) ...
    assert rows['d2l'][1] < 1
    # ... and the judge flatters the network it optimised, as the chapter says
    assert rows['d2l on VGG-16'][1] < rows['d2l'][1]
    # the content-layer experiment: conv4_4 is the d2l preset's own layer, so its run is reused
    assert rows['content conv4_4'] == rows['d2l']
    for column in ('photograph', 'painting'):
        closest = re.search(rf'^closest to the {column}: (conv\d_\d)$', text, re.M)
        assert closest, column
        scores = {layer: rows[f'content {layer}'] for layer in ('conv4_2', 'conv4_4', 'conv5_2')}
        index = 0 if column == 'photograph' else 1
        assert closest.group(1) == min(scores, key=lambda layer: scores[layer][index])
    # the essay's conv5_2 against the two others, by dominance in the printed (rounded) scores
    for other in ('conv4_2', 'conv4_4'):
        verdict = re.search(rf'^conv5_2 against {other}: (.+)$', text, re.M)
        assert verdict, other
        a, b = rows['content conv5_2'][:2], rows[f'content {other}'][:2]
        if a[0] < b[0] and a[1] < b[1]:
            assert verdict.group(1) == 'closer to both images'
        elif a[0] > b[0] and a[1] > b[1]:
            assert verdict.group(1) == 'further from both images'
        elif (a[0] - b[0]) * (a[1] - b[1]) < 0:
            assert verdict.group(1) == 'closer to one image, further from the other'
    # the converted TensorFlow 1 settings are printed from the code that converts them
    assert re.search(r"^gatys-tf1: Adam's learning rate 0\.03\d\d, epsilon", text, re.M)
    assert re.search(r'^its noise: deviation 0\.\d+ in normalised units', text, re.M)


@pytest.mark.parametrize('framework', FRAMEWORKS)
def test_chapter_5_controls_where_the_style_goes_its_colours_and_its_scale(site, framework):
    text = printed(executed(ROOT / CHAPTERS / '05_control.ipynb', framework))
    # one region of ones: the guided loss is chapter 2's
    rows = [re.search(rf'^{name}: +([\d.e+ -]+)$', text, re.M)
            for name in ('StyleLoss', 'GuidedStyleLoss')]
    assert all(rows) and rows[0].group(1).split() == rows[1].group(1).split()
    # each painted region is nearer its own painting, as the judge sees it
    regions = {m.group(1): (float(m.group(2)), float(m.group(3))) for m in
               re.finditer(r'^ +(sky|river) +([\d.]+) +([\d.]+)$', text, re.M)}
    assert regions['sky'][0] < regions['sky'][1] and regions['river'][1] < regions['river'][0]
    # the houses, left as the photograph, stay nearer it than with the painting everywhere
    houses = {k: float(v) for k, v in re.findall(r'^houses, (.+): ([\d.]+) grey levels', text,
                                                 re.M)}
    assert houses['three regions'] < 0.5 * houses['The Starry Night everywhere']
    # Adam lets them drift further; putting the photograph back brings them home
    assert houses['three regions, Adam'] > houses['three regions']
    assert houses['Adam, photograph put back'] < 0.5 * houses['three regions, Adam']
    sky = re.search(r"painting's sky: ([\d.]+) with the whole painting as its target, ([\d.]+) "
                    'with its sky', text)
    assert sky and float(sky.group(2)) < float(sky.group(1))
    # colour control: both methods bring the mean colour nearer the photograph's
    colour = {name: (float(a), float(b)) for name, a, b in re.findall(
        r"^(.+): mean colour ([\d.]+) from the photograph's, chroma ([\d.]+)", text, re.M)}
    plain = colour['The Starry Night everywhere']
    assert colour['luminance only'][0] < plain[0] and colour['histogram matched'][0] < plain[0]
    assert colour['luminance only'][1] < 1.5 < plain[1]  # the photograph's chroma, pixel by pixel
    # scale control: one layer holds most of the style loss with equal weights; balanced, the
    # combined result lies between the single-painting runs at each scale
    shares = [float(v) for v in re.findall(r'conv\d_1 ([\d.]+)%', text)]
    assert len(shares) == 5 and max(shares) > 80
    table = text[text.index('result, balanced'):].splitlines()[1:4]
    scale = {}
    for line in table:
        row = re.match(r'^ *(.+?) +([\d.]+) +([\d.]+)$', line)
        scale[row.group(1)] = float(row.group(2)), float(row.group(3))
    mixed = scale['fine: Starry Night, coarse: Great Wave']
    assert mixed[0] < scale['The Great Wave'][0] and mixed[1] < scale['The Starry Night'][1]

@pytest.mark.parametrize('framework', FRAMEWORKS)
def test_chapter_6_trains_resumes_exports_and_judges_the_shipped_model(site, framework):
    text = printed(executed(ROOT / CHAPTERS / '06_feed_forward.ipynb', framework))
    train = profiles.PROFILES[TEST_PROFILE].train
    assert f'stopped after {train.num_steps // 2} steps' in text
    assert f'{train.num_steps} steps of {train.batch_size} crops of {train.crop} pixels' in text
    total = re.search(r'total: +([\d.]+) -> +([\d.]+)', text)
    assert total and float(total.group(2)) < float(total.group(1))
    assert 'the same output: True' in text
    assert re.search(r'1200x800 in [\d.]+ s', text)
    if framework == 'pytorch':  # the shipped MXNet exports, read without MXNet
        assert re.search(r'^starry_night_batchnorm: total loss \d+', text, re.M)
    for name in ['Tübingen', 'flower']:
        rows = {}
        for label in ['photograph', 'instance norm', 'batch norm']:
            row = re.search(rf'^ *{name}, {label} +([\d.]+) +([\d.]+)$', text, re.M)
            assert row, (name, label)
            rows[label] = tuple(map(float, row.groups()))
        assert rows['photograph'] == (0, 1)
        content, style = rows['instance norm']
        assert 0 < content < 1 and style < 0.8  # the shipped model moves it toward the painting
    # the stored benchmark's optimisation is labelled as the estimate it is
    assert "chapter 1's two stages, estimated with chapter 2's hybridized step" in text
    # one batch or two: both forms compute the same losses, both were timed, and the verdict
    # printed is the one the two times give
    assert 'the same losses: True' in text
    together = re.search(r'\(a\) one batch of \d+, backward through all: (\d+) ms', text)
    apart = re.search(r'\(b\) photographs without recording, then the generated images: (\d+) ms',
                      text)
    assert together and apart and int(together.group(1)) > 0 and int(apart.group(1)) > 0
    verdict = re.search(r'times as long as \(b\): the (separate pass|one batch) is faster', text)
    assert verdict
    assert verdict.group(1) == ('separate pass' if int(apart.group(1)) < int(together.group(1))
                                else 'one batch') or together.group(1) == apart.group(1)
    # the network against chapter 1's optimisation at the first stage's size, both judged
    judged = {}
    for label in ['optimised', 'network']:
        row = re.search(rf'^ *{label} +([\d.]+) +([\d.]+) +([\d.]+)$', text, re.M)
        assert row, label
        judged[label] = tuple(map(float, row.groups()))
    for label, (content, style, seconds) in judged.items():
        assert 0 < content < 1 and 0 < style < 1 and seconds > 0, label
    # one forward pass against hundreds of steps
    assert judged['network'][2] < judged['optimised'][2]
    # the briefly trained network is further from the painting than the optimisation, and the
    # printed winners are the table's
    assert judged['optimised'][1] < judged['network'][1]
    assert 'closer in style: optimised' in text
    # the print-size networks: the gallery's table has every network, on both held-out
    # photographs, and the optimisation on Tübingen; float16 moves no picture visibly
    for name in ['starry_night', 'great_wave', 'the_scream', 'shipwreck', 'woman_with_hat']:
        for photo in ['tubingen', 'flower']:
            assert re.search(rf'^ *{name} +{photo} +{name} +[\d.]+ +[\d.]+ +[\d.]+$', text, re.M)
        assert re.search(rf'^ *{name} +tubingen +optimisation +[\d.]+ +[\d.]+ +[\d.]+$', text, re.M)
        assert re.search(rf'^{name}: float16 weights change the 1200x900 picture by at most '
                         r'[012] grey level', text, re.M)
    closer = 'optimised' if judged['optimised'][0] < judged['network'][0] else 'network'
    assert f'closer in content: {closer}' in text or judged['optimised'][0] == judged['network'][0]
    assert re.search(r"the network's training: \d+ steps of \d+ crops of \d+ pixels from 10 "
                     r'photographs', text)


@pytest.mark.parametrize('framework', FRAMEWORKS)
def test_chapter_7_measures_the_flicker_and_blending_lowers_it(site, framework):
    text = printed(executed(ROOT / CHAPTERS / '07_video.ipynb', framework))
    clip = profiles.PROFILES[TEST_PROFILE].clip
    assert f'{clip.num_frames} frames of {clip.frame_shape[0]}x{clip.frame_shape[1]}' in text
    off = re.search(r'the estimate is off by ([\d.]+) px', text)
    assert off and float(off.group(1)) < 1
    errors = {}
    for name in ['input', 'each frame stylized', 'blended, alpha=0.5']:
        row = re.search(rf'{re.escape(name)}: +([\d.]+) grey levels \(with the true motion: +'
                        r'([\d.]+), [+-]\d+%\)', text)
        assert row, name
        errors[name] = tuple(map(float, row.groups()))
    # the input is the floor, the network flickers well above it, blending brings it down,
    # by the estimated flow and by the true motion, which the blending never saw
    for k in (0, 1):
        assert (errors['input'][k] < errors['blended, alpha=0.5'][k]
                < errors['each frame stylized'][k])
    ratio = re.search(r"error is ([\d.]+) times the input's", text)
    assert ratio and float(ratio.group(1)) > 2
    # the sweep: more blending, less flicker and less sharpness
    sweep = [tuple(map(float, m)) for m in re.findall(
        r'alpha=([\d.]+) *: warping error +([\d.]+) \(true motion +([\d.]+)\), sharpness +([\d.]+)',
        text)]
    assert len(sweep) == 5 and sweep[0][0] == 0
    assert all(a[2] > b[2] and a[3] > b[3] for a, b in zip(sweep, sweep[1:]))
    # the real clip: the network multiplies the input's error, blending brings it down
    real = re.search(r'the mask keeps [\d.]+% of the pixels\n +input: +([\d.]+) grey levels\n'
                     r' +each frame stylized: +([\d.]+) grey levels\n +blended, alpha=0.5: +'
                     r'([\d.]+) grey levels', text)
    assert real
    floor, stylized, blended = map(float, real.groups())
    assert floor < blended < stylized
    # the command (MXNet's) wrote the clip whole and printed the same kind of drop
    if framework != 'mxnet':
        return
    assert f'written: {clip.num_frames} frames of {clip.frame_shape[0]}x{clip.frame_shape[1]}' in text
    flicker = re.search(r'([\d.]+) stylized frame by frame, ([\d.]+) blended with --blend 0.5', text)
    assert flicker and float(flicker.group(2)) < float(flicker.group(1))


@pytest.mark.parametrize('framework', FRAMEWORKS)
def test_the_appendix_resumes_a_checkpoint_and_splits_a_batch(site, framework):
    text = printed(executed(ROOT / CHAPTERS / '08_under_the_hood.ipynb', framework))
    assert 'resumed at step 1; parameters equal to those saved: True' in text
    if framework == 'pytorch':  # DistributedDataParallel over two processes, gloo on the CPU
        gap = re.search(r'gradient of the whole batch ([\d.e+-]+)', text)
        assert gap and float(gap.group(1)) < 1e-5
