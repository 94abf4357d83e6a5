"""Time to quality, judged by the objective: how soon does each strategy reach what a long run
of the same loss reaches?

    .venv/bin/python benchmarks/time_to_quality.py [--size 1200] [--pairs tubingen ...]

Each strategy is a real ``d2lstyle stylize`` run in a process of its own, saving its best
image every few iterations (``--save-every``). For each photograph and painting, the
``reference`` is a long run of the same preset: chapter 1's first stage (500 steps of Adam at a
quarter of the final size), then L-BFGS on the whole image at the final size until more
evaluations barely change the loss (the record says by how much over the last snapshots).
Afterwards, with the clock stopped, every saved image is scored at the final size by

* ``objective``: the loss the command minimises, over the reference's (quality.Objective);
* ``lpips``: the perceptual distance to the reference's image (quality.LPIPS); two distances
  of known pictures are stored for scale (``lpips_scale``);

and each run's final image, as a second, independent view, by chapter 4's judge (VGG-16):
its content distance over the painting's, and its style and texture (luminance only) distances
over the photograph's. A Gram judge rewards colour and cannot rank two optimisers of one
objective, so it is not the criterion.

A run *reaches* the reference when its objective is at most OBJECTIVE_LIMIT times the
reference's and its LPIPS at most LPIPS_LIMIT. The ``reference twin`` runs the reference's
recipe from the photograph with each value moved at random by at most a grey level: how far
LPIPS puts two runs of one recipe. Each run also records ``step_seconds``, one of chapter 2's
hybridized steps on the whole image at the final size, timed on the same machine in the same
session (the pair's is the one timed last): a run's seconds over it are a count of full-size
steps, which carries over to another machine; the plan must reach the reference within
STEP_LIMIT of them, start and loading included. Each pair names the machine it was measured
on, so pairs measured on two machines can stand in one report (``--append``): every figure of
a pair comes from its one machine.
``PAIRS`` are the benchmark's own; ``UNSEEN`` are pairs the plan was not tuned on.
Finished runs are kept in ``--runs`` and not run again; results go to
``benchmarks/time_to_quality.json`` (``--append`` adds pairs and runs to it), and chapter 3
plots them.
"""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

os.environ.setdefault('OMP_NUM_THREADS', str(os.cpu_count() or 1))
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the checkout's d2lstyle, installed or not
from d2lstyle.atomic import write_json  # noqa: E402

PAIRS = [('tubingen.jpg', 'starry_night.jpg'), ('photos/china.jpg', 'great_wave.jpg'),
         ('flower.jpg', 'the_scream.jpg')]
UNSEEN = [('photos/rocket.jpg', 'shipwreck.jpg'),
          ('photos/coffee.jpg', 'woman-with-hat-matisse.jpg')]
OBJECTIVE_LIMIT, LPIPS_LIMIT, STEP_LIMIT = 1.10, 0.12, 60
SNAPSHOTS = 12  # saved images per run, spread over its iterations
BLUR = 2  # pixels: the radius of the Gaussian blur whose LPIPS gives a scale (lpips_scale)
CROP = 256  # the side of the 1:1 crops kept for chapter 3, beside the results


@dataclass(frozen=True)
class Strategy:
    name: str
    sizes: tuple = ()   # long side of each stage, as a fraction of the final size
    steps: tuple = ()   # iterations of each stage; none: the command plans its own stages
    optimizers: tuple = ('adam',)  # one for all stages, or one per stage
    init: str = 'content'
    minutes: float = None  # stop the run (Ctrl-C) after this long; None: let it finish
    scale: float = 1.0  # its iterations are this many times the strategy's (scaled)
    jitter: int = 0  # grey levels of random noise added to its start (a twin of the run)

    def __post_init__(self):
        if self.jitter and (not self.steps or self.init != 'content'):
            raise ValueError(f'{self.name}: only a run of given stages from the content can '
                             'start from the jittered photograph')

    def argv(self, size, start=None):
        """The command's options; ``start``: the file its first stage starts from, if jittered."""
        if not self.steps:
            return ['--size', str(size)]
        return ['--size', *map(str, self.sizes_at(size)), '--iterations', *map(str, self.steps),
                '--optimizer', *self.optimizers, '--init', str(start or self.init)]

    def sizes_at(self, size):
        """Each stage's long side, for a final long side ``size``."""
        return [max(64, round(size * s)) for s in self.sizes]

    def scaled(self, factor):
        """The same stages with ``factor`` times the iterations (for a first look)."""
        return replace(self, steps=tuple(max(2, round(n * factor)) for n in self.steps),
                       scale=self.scale * factor)

    def iterations(self, size, photo_size):
        """How many iterations the run makes in all."""
        if self.steps:
            return sum(self.steps)
        from d2lstyle import plan
        from d2lstyle.stylize import tiled
        return sum(s.iterations for s in plan.plan(size, lambda side: tiled(photo_size, side)))


REFERENCE = Strategy('reference', (0.25, 1.0), (500, 160), ('adam', 'lbfgs'))
STRATEGIES = [
    REFERENCE,
    # the reference again, from the photograph with every value moved by at most a grey level:
    # how far LPIPS puts two runs of one recipe from starts that no one can tell apart
    replace(REFERENCE, name='reference twin', jitter=1),
    # what `d2lstyle stylize --size S` does (d2lstyle/plan.py)
    Strategy('plan'),
    # the plan before its last stage took L-BFGS: ten steps of Adam there
    # (then in tiles, on the CPU; whole now, where memory holds the stage)
    Strategy('pyramid, Adam last', (0.25, 0.3536, 0.5, 0.7071, 1.0), (100, 50, 25, 12, 10),
             ('lbfgs',) * 4 + ('adam',)),
    # chapter 1's recipe as d2l publishes it: a quarter of the size, then the final size,
    # 500 and 300 steps of Adam, stopped after about the plan's limit of full-size steps
    Strategy('two stages, Adam', (0.25, 1.0), (500, 300), minutes=8),
]
DEFAULT = ['reference', 'plan']
JITTER_SEED = 1  # of the twin's noise


def lpips_scale(lpips):
    """Two LPIPS distances for scale, at the side it compares pictures: the first pair's
    photograph against a Gaussian blur of it (radius BLUR pixels), and against its painting."""
    from PIL import ImageFilter
    from d2lstyle.images import read_image, stage_shape
    from quality import LPIPS_SIDE
    photo, painting = (read_image(ROOT / 'img' / name) for name in PAIRS[0])
    photo = photo.resize(stage_shape(photo.size, LPIPS_SIDE))
    return {'side': LPIPS_SIDE, 'blur_radius': BLUR,
            'blur': lpips(photo, photo.filter(ImageFilter.GaussianBlur(BLUR))),
            'painting': lpips(photo, painting)}


def slug(text):
    return re.sub(r'[^a-z0-9]+', '-', text.lower()).strip('-')


def folder(runs, photo, painting, size, strategy):
    """Where ``strategy``'s run of a pair at ``size`` is kept under ``runs``: a scaled one
    beside the whole one, not in its place."""
    scaled = '' if strategy.scale == 1 else f'-x{strategy.scale:g}'
    return runs / f'{Path(photo).stem}_{Path(painting).stem}_{size}' / slug(
        strategy.name + scaled)


def jittered(content, size, levels, path, seed=JITTER_SEED):
    """Write to ``path`` the start of a first stage of long side ``size``: the photograph
    resized as preprocess resizes it, each value moved by a random whole number of grey levels
    from -``levels`` to ``levels`` (then clipped to 0..255)."""
    import numpy as np
    from PIL import Image
    from d2lstyle.images import read_image, save_image, stage_shape
    img = read_image(content)
    x = np.asarray(img.resize(stage_shape(img.size, size), Image.BICUBIC), dtype=np.int16)
    noise = np.random.default_rng(seed).integers(-levels, levels + 1, x.shape)
    save_image(Image.fromarray(np.clip(x + noise, 0, 255).astype(np.uint8)), path)


def run(strategy, content, style, size, folder, step=None):
    """One stylize run in ``folder``, in a process of its own whose peak memory is read when
    it ends (benchmarks/memory.py), stopped with Ctrl-C (which keeps the image and the record)
    once it has run its ``minutes``; a finished run already there with the same arguments is
    not run again (one with others is run afresh). Returns its record, its snapshots as
    (iteration, path) and its process's measures: ``process_seconds``, ``peak_gb`` and the
    full-size ``step_seconds`` given, timed in the session that made the run (runs stored
    before they were measured have none)."""
    from d2lstyle.images import read_image
    from memory import MEASURE, printed_peak_gb
    out = folder / 'out.png'
    done = folder / 'process.json'
    total = strategy.iterations(size, read_image(content).size)
    start = folder / f'start-{strategy.jitter}-{JITTER_SEED}.png' if strategy.jitter else None
    argv = [str(a) for a in ['stylize', content, style, '-o', out, *strategy.argv(size, start),
                             '--save-every', max(1, total // SNAPSHOTS)]]
    if not done.exists() or json.loads(done.read_text()).get('argv') != argv:
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        if start:
            jittered(content, strategy.sizes_at(size)[0], strategy.jitter, start)
        began = time.perf_counter()
        # A shell that starts a job in the background makes it ignore Ctrl-C: undo that
        proc = subprocess.Popen([sys.executable, '-c', MEASURE, *argv], cwd=ROOT,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        try:
            printed, err = proc.communicate(timeout=strategy.minutes and strategy.minutes * 60)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGINT)
            printed, err = proc.communicate()
        if proc.returncode not in (0, 130):
            raise SystemExit(f'{strategy.name} failed:\n{err[-2000:]}')
        write_json(done, {'process_seconds': time.perf_counter() - began, 'argv': argv,
                          'peak_gb': printed_peak_gb(printed), 'step_seconds': step})
    record = json.loads(out.with_suffix('.json').read_text())
    snapshots = sorted((int(re.search(r'_(\d+)\.png$', p.name).group(1)), p)
                       for p in folder.glob('out_*.png'))
    return record, snapshots + [(len(record['losses']), out)], json.loads(done.read_text())


def step_seconds(shape, repeats=5):
    """Median seconds of one of chapter 2's hybridized steps on the whole image at ``shape``:
    the unit that carries the strategies' times to another machine."""
    import statistics
    from style_step import mxnet_step, seconds
    step = mxnet_step('hybridized', tuple(shape))
    step()  # builds the graph
    return statistics.median(seconds(step, repeats))


class Scorer:
    """Scores images of one pair at the final size against its reference's image."""

    def __init__(self, photo, painting, size, lpips):
        from quality import Objective
        from quality import Judge
        self.objective = Objective(photo, painting, size)
        self.judge = Judge(photo, painting, self.objective.shape)
        self.lpips, self.reference = lpips, None

    def set_reference(self, img):
        self.reference, self.reference_total = img, self.objective(img)['total']

    def __call__(self, img, judged=False):
        scores = {'objective': self.objective(img)['total'] / self.reference_total,
                  'lpips': self.lpips(img, self.reference)}
        return {**scores, **self.judge(img)} if judged else scores


def curve(score, record, snapshots):
    from d2lstyle.images import read_image
    points = []
    for k, (iteration, path) in enumerate(snapshots):
        entry = record['losses'][iteration - 1]
        points.append({'iteration': iteration, 'seconds': entry['seconds'],
                       'stage': entry['stage'],
                       **score(read_image(path), judged=k == len(snapshots) - 1)})
    return points


def last_stage(record):
    """The record's entries of its last stage, one per evaluation."""
    return [e for e in record['losses'] if e['stage'] == len(record['stages'])]


def logged(record):
    """The lowest loss the run logged on its last stage: that of the picture it optimised
    (chapter 3's PictureLoss), so the saved picture's up to the rounding to 8 bits."""
    best = min(last_stage(record), key=lambda e: e['total'])
    return {k: best[k] for k in ('content', 'style', 'tv', 'total')}


def first_within(record, total):
    """The first evaluation of the last stage whose logged loss is at most ``total``: its
    number on the stage and its seconds since the run started, or None."""
    return next(({'evaluations': k, 'seconds': e['seconds']}
                 for k, e in enumerate(last_stage(record), 1) if e['total'] <= total), None)


def evaluations_to(record, limit):
    """The evaluations of the last stage after which its logged loss was first within
    ``limit`` times the stage's lowest."""
    lowest = min(e['total'] for e in last_stage(record))
    return first_within(record, limit * lowest)['evaluations']


def convergence(record, snapshots):
    """How much a run's logged loss (the reference's, above all) fell over the last quarter (or
    more) of its final stage, from the last snapshot before it to the end, as a share of the
    loss at the end: what more evaluations would still change."""
    final, end = len(record['stages']), len(record['losses'])
    quarter = end - record['stages'][-1]['iterations'] / 4
    before = [i for i, _ in snapshots
              if record['losses'][i - 1]['stage'] == final and i <= quarter]
    if not before:
        return {'evaluations': None, 'change': None}
    best = [min(e['total'] for e in record['losses'][:i] if e['stage'] == final)
            for i in (before[-1], end)]
    return {'evaluations': end - before[-1], 'change': (best[0] - best[1]) / best[1]}


def crops(folder, photo, images):
    """1:1 crops of the same square (CROP pixels, or less in a small image) of each image, in
    the upper middle, where the paintings' strokes and any grain show; their names in
    ``folder``."""
    from d2lstyle.images import save_image
    folder.mkdir(parents=True, exist_ok=True)
    w, h = next(iter(images.values())).size
    side = min(CROP, w // 2, h // 2)
    box = (w // 2, h // 4, w // 2 + side, h // 4 + side)
    paths = {}
    for name, img in images.items():
        path = folder / f'{Path(photo).stem}_{slug(name)}.png'
        save_image(img.crop(box), path)
        paths[name] = path.name
    return {'box': list(box), 'paths': paths}


def measure_pair(photo, painting, args, lpips, measured_on):
    from d2lstyle.images import read_image
    content, style = ROOT / 'img' / photo, ROOT / 'img' / painting
    score = Scorer(content, style, args.size, lpips)
    shape = score.objective.shape
    pair = {'photo': photo, 'painting': painting, 'unseen': (photo, painting) in UNSEEN,
            **measured_on, 'shape': list(shape), 'tiles': score.objective.tiles,
            'step_seconds': step_seconds(shape), 'runs': []}
    strategies = [s for s in STRATEGIES if s.name in args.strategies]
    finals = {}
    for strategy in [REFERENCE] + [s for s in strategies if s is not REFERENCE]:
        asked = strategy in strategies
        strategy = strategy.scaled(args.scale_steps)
        print(f'{photo} + {painting}, {strategy.name}: running', flush=True)
        record, snapshots, process = run(strategy, content, style, args.size,
                                         folder(args.runs, photo, painting, args.size, strategy),
                                         pair['step_seconds'])
        wall, step = process['process_seconds'], process.get('step_seconds')
        if strategy.name == REFERENCE.name:
            score.set_reference(read_image(snapshots[-1][1]))
            pair['reference'] = {'objective': score.objective(score.reference),
                                 'logged': logged(record), **convergence(record, snapshots),
                                 'to_limit': evaluations_to(record, OBJECTIVE_LIMIT)}
            if not asked:
                continue
        points = curve(score, record, snapshots)
        final = points[-1]
        result = {'strategy': asdict(strategy), 'points': points, 'stages': record['stages'],
                  'fallbacks': record['fallbacks'], 'process_seconds': wall,
                  'step_seconds': step or pair['step_seconds']}
        result['step_times'] = wall / result['step_seconds']
        if args.conditions:
            result['conditions'] = args.conditions
        # when its logged loss first came within the limit of the reference's
        result['to_limit'] = first_within(record,
                                          OBJECTIVE_LIMIT * pair['reference']['logged']['total'])
        result['reaches'] = (final['objective'] <= OBJECTIVE_LIMIT
                             and final['lpips'] <= LPIPS_LIMIT)
        pair['runs'].append(result)
        finals[strategy.name] = read_image(snapshots[-1][1])
        print(f"{photo} + {painting}, {strategy.name}: {wall:.0f} s "
              f"({result['step_times']:.0f} full-size steps), objective "
              f"{final['objective']:.3f} of the reference's, LPIPS {final['lpips']:.3f}",
              flush=True)
    pair['crops'] = crops(args.out.with_suffix(''), photo, finals)
    return pair


def merge(report, pair):
    """``report`` with ``pair``'s runs in place of (or beside) its runs of the same names; each
    run keeps the step it was counted in."""
    for k, old in enumerate(report['pairs']):
        if (old['photo'], old['painting']) == (pair['photo'], pair['painting']):
            names = {r['strategy']['name'] for r in pair['runs']}
            runs = [r for r in old['runs'] if r['strategy']['name'] not in names] + pair['runs']
            crops = old.get('crops', {})
            crops = {**crops, **pair['crops'],
                     'paths': {**crops.get('paths', {}), **pair['crops']['paths']}}
            report['pairs'][k] = {**old, **pair, 'runs': runs, 'crops': crops}
            return report
    report['pairs'].append(pair)
    return report


def per_pair_machine(report):
    """A report as written before each pair named its machine (one ``machine`` and
    ``versions`` for all) with them moved into each of its pairs."""
    shared = {k: report.pop(k) for k in ('machine', 'versions') if k in report}
    report['pairs'] = [{**shared, **pair} for pair in report['pairs']]
    return report


def in_order(pair):
    """Sorts pairs as PAIRS + UNSEEN lists them, any other pair after them."""
    known = PAIRS + UNSEEN
    key = (pair['photo'], pair['painting'])
    return known.index(key) if key in known else len(known)


def check_machine(report, stems, machine, out):
    """Refuses, before anything runs, to add runs to a stored pair measured on another
    machine: one pair's step-times and minutes must all come from one machine."""
    for pair in report['pairs']:
        if Path(pair['photo']).stem in stems and pair['machine'] != machine:
            raise SystemExit(f"--append: {out} holds {pair['photo']} + {pair['painting']} as "
                             f"measured on {pair['machine']}, and this is {machine}; give "
                             "another --out, or leave that pair out of --pairs")


def steps_again(report, machine):
    """``report`` with the full-size step timed again here, for each pair measured on this
    ``machine``, and all its runs' step-times counted with it (run them in one session); the
    other pairs as they were."""
    for pair in report['pairs']:
        if pair['machine'] != machine:
            print(f"{pair['photo']}: measured on {pair['machine']}, not here; left as it was")
            continue
        pair['step_seconds'] = step_seconds(pair['shape'])
        for result in pair['runs']:
            result['step_seconds'] = pair['step_seconds']
            result['step_times'] = result['process_seconds'] / pair['step_seconds']
    return report


def arguments(argv):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--size', type=int, default=1200, help='long side of the final image')
    parser.add_argument('--pairs', nargs='+', default=[Path(p).stem for p, _ in PAIRS + UNSEEN],
                        help='photographs (file stems) of the pairs to run (default: all)')
    parser.add_argument('--strategies', nargs='+', default=DEFAULT,
                        choices=[s.name for s in STRATEGIES],
                        help=f'names (default: {", ".join(DEFAULT)})')
    parser.add_argument('--scale-steps', type=float, default=1.0,
                        help="multiply every given stage's iterations (for a first look)")
    parser.add_argument('--runs', type=Path, default=Path(tempfile.gettempdir()) / 'd2lstyle-ttq',
                        help='folder for the runs: a finished run there is not run again')
    parser.add_argument('--out', type=Path, default=ROOT / 'benchmarks' / 'time_to_quality.json')
    parser.add_argument('--append', action='store_true',
                        help='add the pairs and runs to those --out holds (replacing runs of '
                             'the same strategy; each pair names its machine)')
    parser.add_argument('--conditions',
                        help="stored with each run made, and printed beside it: how it ran "
                             "unlike a quiet run on the pair's machine (beside what else), and "
                             "what that does to its step-times")
    parser.add_argument('--steps-only', action='store_true',
                        help="time the full-size step again, on a quiet machine, for each "
                             "stored pair measured on this one, and count its runs' step-times "
                             "with it")
    return parser.parse_args(argv)


def main(argv=None):
    args = arguments(argv)
    from d2lstyle import runtime
    from quality import LPIPS
    measured_on = runtime.measured_on(runtime.framework('mxnet'))
    report = {'size': args.size, 'limits': {'objective': OBJECTIVE_LIMIT, 'lpips': LPIPS_LIMIT,
                                            'step_times': STEP_LIMIT}, 'pairs': []}
    if (args.append or args.steps_only) and args.out.exists():
        report = per_pair_machine(json.loads(args.out.read_text()))
        if report['size'] != args.size:
            raise SystemExit(f"{args.out} holds runs at {report['size']} pixels, not "
                             f"{args.size}; give --size {report['size']}, or another --out")
    if args.steps_only:
        write_json(args.out, steps_again(report, measured_on['machine']))
        return
    check_machine(report, args.pairs, measured_on['machine'], args.out)
    lpips = LPIPS()
    report['lpips_scale'] = lpips_scale(lpips)
    for photo, painting in PAIRS + UNSEEN:
        if Path(photo).stem in args.pairs:
            report = merge(report, measure_pair(photo, painting, args, lpips, measured_on))
            report['pairs'].sort(key=in_order)
            write_json(args.out, report)  # after each pair: a long run keeps what it measured
    print(f'wrote {args.out}')


if __name__ == '__main__':
    main()
