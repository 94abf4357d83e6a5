"""Quality against wall-clock time: how soon does each strategy give a good large picture?

    .venv/bin/python benchmarks/time_to_quality.py [--size 1200] [--pairs 2]

Each strategy is a real ``d2lstyle stylize`` run in a process of its own, saving its best
image every few steps (``--save-every``). Afterwards, with the clock stopped, chapter 4's
independent judge (VGG-16, content at conv4_2, style at conv1_1 to conv5_1) scores every
saved image at the final size, where strokes show, against the time the run had taken:

* ``content``: the judge's content distance over the painting's (0 is the photograph);
* ``style``: its style distance over the photograph's (0 is the painting);
* ``texture``: the style distance of the images' luminance only, over the photograph's. A
  tinted photograph can score well on ``style`` (Gram matrices are dominated by colour at
  low resolution), but not on ``texture``.

The reference quality of a pair is the best of the strategies' final scores; a strategy
reaches it when its style and texture are within ``TOLERANCE`` of the reference's and its
content is no worse than the reference's plus the same tolerance. The feed-forward network of
chapter 6 is a single point (one forward pass) for the painting it was trained on.
Each pair also records ``step_seconds``, one of chapter 2's hybridized steps on the whole
image at the final size, timed on the same machine: a strategy's time over it is a count of
full-size steps, which carries over to another machine (``--append --steps-only`` adds it to
stored results).
Results go to ``benchmarks/time_to_quality.json``; chapter 3 plots them. Peak memory per size
is ``benchmarks/memory.py``'s to measure, not this script's.
"""
import argparse
import json
import os
import re
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
TOLERANCE = 0.1
SNAPSHOTS = 10  # saved images per run, spread over its iterations


@dataclass(frozen=True)
class Strategy:
    name: str
    sizes: tuple = ()   # long side of each stage, as a fraction of the final size
    steps: tuple = ()   # iterations of each stage; none: the command plans its own stages
    optimizer: str = 'adam'  # stages in tiles take Adam whatever this says
    init: str = 'content'
    minutes: float = None  # stop the run (Ctrl-C) after this long; None: let it finish
    first_pair_only: bool = False

    def argv(self, size):
        if not self.steps:
            return ['--size', str(size)]
        sizes = [max(32, round(size * s)) for s in self.sizes]
        return ['--size', *map(str, sizes), '--iterations', *map(str, self.steps),
                '--optimizer', self.optimizer, '--init', self.init]

    def iterations(self, size, photo_size):
        """How many iterations the run makes in all."""
        if self.steps:
            return sum(self.steps)
        from d2lstyle import plan
        from d2lstyle.stylize import tiled
        return sum(s.iterations for s in plan.plan(size, lambda side: tiled(photo_size, side)))


def pyramid(stages, scale=2 ** 0.5):
    """Long sides final / scale^(n-1), ..., final: each stage sqrt(2) larger than the last."""
    return tuple(round(scale ** -k, 4) for k in reversed(range(stages)))


STRATEGIES = [
    # what `d2lstyle stylize --size S` does (d2lstyle/plan.py)
    Strategy('plan'),
    # a coarser pyramid: twice as large per stage, a quarter of the iterations
    Strategy('three-stage pyramid', (0.25, 0.5, 1.0), (100, 25, 10), 'lbfgs'),
    # the plan's pyramid with twice the iterations at every stage but the last: the long run
    Strategy('longer pyramid', pyramid(5), (200, 100, 50, 24, 12), 'lbfgs', minutes=16),
    # chapter 1's recipe as d2l publishes it: 300x200 then 1200x800, 500 and 300 steps of Adam
    Strategy('two stages, Adam', (0.25, 1.0), (500, 300), minutes=4, first_pair_only=True),
    # the plan's pyramid from noise instead of the photograph
    Strategy('pyramid from noise', pyramid(5), (100, 50, 25, 12, 10), 'lbfgs', 'noise',
             minutes=5, first_pair_only=True),
]


def run(strategy, content, style, size, folder, scale_steps=1.0):
    """One stylize run, stopped with Ctrl-C (which keeps the image and the record) once it has
    run its ``minutes``; returns the strategy run, its record, its snapshots as (iteration, path)
    and the process's wall-clock seconds."""
    steps = tuple(max(2, round(n * scale_steps)) for n in strategy.steps)
    strategy = replace(strategy, steps=steps)
    out = folder / 'out.png'
    from d2lstyle.images import read_image
    total = strategy.iterations(size, read_image(content).size)
    argv = ['stylize', content, style, '-o', out, *strategy.argv(size),
            '--save-every', max(1, total // SNAPSHOTS)]
    start = time.perf_counter()
    # A shell that starts a job in the background makes it ignore Ctrl-C: undo that for the run
    proc = subprocess.Popen([sys.executable, '-m', 'd2lstyle', *map(str, argv)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        _, err = proc.communicate(timeout=strategy.minutes and strategy.minutes * 60)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate()
    wall = time.perf_counter() - start
    if proc.returncode not in (0, 130):
        raise SystemExit(f'{strategy.name} failed:\n{err[-2000:]}')
    record = json.loads(out.with_suffix('.json').read_text())
    snapshots = sorted((int(re.search(r'_(\d+)\.png$', p.name).group(1)), p)
                       for p in folder.glob('out_*.png'))
    return strategy, record, snapshots + [(len(record['losses']), out)], wall


def gray(img):
    return img.convert('L').convert('RGB')


class Judge:
    """Chapter 4's judge at the final size, normalised by the photo's and painting's scores.

    It computes what chapter 4's ``judge`` computes, with the photograph's and the painting's
    features taken once instead of at every call (six passes of VGG-16 at 1200x800 would
    cost more than some strategies' steps)."""

    def __init__(self, content_img, style_img, shape):
        import mxnet as mx
        from d2lstyle import mxnet as d2l
        from d2lstyle import presets, weights
        names = weights.conv_layers('vgg16')
        self.layers = [names['conv4_2']], [names[n] for n in presets.STYLE_LAYERS]
        self.net = d2l.truncated_net(weights.load_vgg('vgg16', mx.cpu()), *self.layers)
        self.shape = shape
        self.targets = {colour: (self.features(c(content_img))[0],
                                 [d2l.gram(Y) for Y in self.features(c(style_img))[1]])
                        for colour, c in (('rgb', lambda im: im), ('gray', gray))}
        self.painting_content = self.raw(style_img)[0]
        self.photo_style, self.photo_texture = self.raw(content_img)[1:]

    def features(self, img):
        import mxnet as mx
        from d2lstyle import mxnet as d2l
        X = d2l.preprocess(img, self.shape).as_in_context(mx.cpu())
        return d2l.extract_features(self.net, X, *self.layers)

    def distances(self, img, colour):
        from d2lstyle import mxnet as d2l
        contents_Y, grams = self.targets[colour]
        contents_Y_hat, styles_Y_hat = self.features(img)
        content = sum(float(d2l.content_loss(Y_hat, Y).asscalar())
                      for Y_hat, Y in zip(contents_Y_hat, contents_Y))
        style = sum(float(d2l.style_loss(Y_hat, G).asscalar())
                    for Y_hat, G in zip(styles_Y_hat, grams))
        return content, style

    def raw(self, img):
        content, style = self.distances(img, 'rgb')
        return content, style, self.distances(gray(img), 'gray')[1]

    def __call__(self, img):
        content, style, texture = self.raw(img)
        return {'content': content / self.painting_content, 'style': style / self.photo_style,
                'texture': texture / self.photo_texture}


def curve(judge, record, snapshots):
    from d2lstyle.images import read_image
    points = []
    for iteration, path in snapshots:
        entry = record['losses'][iteration - 1]
        points.append({'iteration': iteration, 'seconds': entry['seconds'],
                       'stage': entry['stage'], **judge(read_image(path))})
    return points


def feed_forward_point(judge, content, size, folder):
    """The shipped network's one pass, as the transform command times it."""
    out = folder / 'transformed.png'
    done = subprocess.run([sys.executable, '-m', 'd2lstyle', 'transform', '--model',
                           'starry_night', str(content), str(out)], cwd=ROOT,
                          capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f'transform failed:\n{done.stderr[-2000:]}')
    seconds = float(re.search(r'in ([\d.]+) s', done.stdout).group(1))
    from d2lstyle.images import read_image
    return {'seconds': seconds, **judge(read_image(out).resize(judge.shape))}


def reaches(point, reference):
    return (point['style'] <= reference['style'] * (1 + TOLERANCE)
            and point['texture'] <= reference['texture'] * (1 + TOLERANCE)
            and point['content'] <= reference['content'] + TOLERANCE)


def summarise(pair):
    """The reference (the best final score) and each strategy's first time to reach it."""
    finals = [r['points'][-1] for r in pair['runs']]
    reference = min(finals, key=lambda p: p['style'] + p['texture'] + p['content'])
    pair['reference'] = reference
    for r in pair['runs']:
        r['seconds_to_reference'] = next((p['seconds'] for p in r['points']
                                          if reaches(p, reference)), None)
    return pair


def step_seconds(shape, repeats=3):
    """Median seconds of one of chapter 2's hybridized steps on the whole image at ``shape``:
    the unit that carries the strategies' times to another machine."""
    import statistics
    from style_step import mxnet_step, seconds
    step = mxnet_step('hybridized', tuple(shape))
    step()  # builds the graph
    return statistics.median(seconds(step, repeats))


def pair_judge(photo, painting, size):
    """The Judge of a pair at the final size ``size``."""
    from d2lstyle.images import read_image, stage_shape
    content_img, style_img = read_image(ROOT / 'img' / photo), read_image(ROOT / 'img' / painting)
    return Judge(content_img, style_img, stage_shape(content_img.size, size))


def measure_pair(photo, painting, size, strategies, scale_steps, keep):
    from d2lstyle.images import read_image
    judge = pair_judge(photo, painting, size)
    shape = judge.shape
    pair = {'photo': photo, 'painting': painting, 'shape': list(shape), 'runs': [],
            'step_seconds': step_seconds(shape)}
    for strategy in strategies:
        print(f'{photo} + {painting}, {strategy.name}: running', flush=True)
        with tempfile.TemporaryDirectory() as tmp:
            used, record, snapshots, wall = run(strategy, ROOT / 'img' / photo,
                                                ROOT / 'img' / painting, size, Path(tmp),
                                                scale_steps)
            points = curve(judge, record, snapshots)
            if keep:
                read_image(snapshots[-1][1]).save(keep / f'{Path(photo).stem}_{used.name}.png')
        pair['runs'].append({'strategy': asdict(used), 'points': points,
                             'stages': record['stages'], 'fallbacks': record['fallbacks'],
                             'process_seconds': wall})
        print(f"{photo} + {painting}, {used.name}: {points[-1]['seconds']:.0f} s, content "
              f"{points[-1]['content']:.3f}, style {points[-1]['style']:.3f}, texture "
              f"{points[-1]['texture']:.3f}", flush=True)
    if painting == 'starry_night.jpg':
        with tempfile.TemporaryDirectory() as tmp:
            pair['feed_forward'] = feed_forward_point(judge, ROOT / 'img' / photo, size, Path(tmp))
    return summarise(pair)


def merge(old, new):
    """``old``'s pair with ``new``'s runs in place of (or beside) its runs of the same names."""
    names = {r['strategy']['name'] for r in new['runs']}
    runs = [r for r in old['runs'] if r['strategy']['name'] not in names] + new['runs']
    return summarise({**old, **new, 'runs': runs})


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--size', type=int, default=1200, help='long side of the final image')
    parser.add_argument('--pairs', type=int, default=2, help=f'how many of {len(PAIRS)} pairs')
    parser.add_argument('--strategies', nargs='+', help='names (default: all)')
    parser.add_argument('--scale-steps', type=float, default=1.0,
                        help='multiply every stage\'s steps (for a first look)')
    parser.add_argument('--keep', type=Path, help='folder for each run\'s final image')
    parser.add_argument('--out', type=Path, default=ROOT / 'benchmarks' / 'time_to_quality.json')
    parser.add_argument('--append', action='store_true',
                        help='add the runs to those --out holds (replacing runs of the same '
                             'strategy), on the same machine')
    parser.add_argument('--steps-only', action='store_true',
                        help="with --append: only time one full-size step of each pair's")
    parser.add_argument('--feed-forward-only', action='store_true',
                        help='with --append: only measure the shipped network again (after it '
                             'was retrained)')
    args = parser.parse_args(argv)
    strategies = [s for s in STRATEGIES if not args.strategies or s.name in args.strategies]
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
    from d2lstyle import runtime
    mxnet = runtime.framework('mxnet')
    report = {**runtime.measured_on(mxnet), 'size': args.size,
              'tolerance': TOLERANCE, 'pairs': []}
    if args.append:
        report = json.loads(args.out.read_text())
        if report['machine'] != runtime.machine(mxnet) or report['size'] != args.size:
            raise SystemExit(f"--append: {args.out} was measured on {report['machine']} at "
                             f"{report['size']} pixels; run the whole benchmark here instead")
    if args.steps_only:
        if not args.append:
            parser.error('--steps-only adds to what --out holds: give --append too')
        for pair in report['pairs']:
            pair['step_seconds'] = step_seconds(pair['shape'])
        write_json(args.out, report)
        return
    if args.feed_forward_only:
        if not args.append:
            parser.error('--feed-forward-only adds to what --out holds: give --append too')
        for pair in report['pairs']:
            if 'feed_forward' in pair:
                with tempfile.TemporaryDirectory() as tmp:
                    pair['feed_forward'] = feed_forward_point(
                        pair_judge(pair['photo'], pair['painting'], args.size),
                        ROOT / 'img' / pair['photo'], args.size, Path(tmp))
        write_json(args.out, report)
        return
    later = [s for s in strategies if not s.first_pair_only]
    for k, (photo, painting) in enumerate(PAIRS[:args.pairs]):
        pair = measure_pair(photo, painting, args.size, later if k else strategies,
                            args.scale_steps, args.keep)
        if args.append:
            pair = merge(report['pairs'][k], pair)
            report['pairs'][k] = pair
        else:
            report['pairs'].append(pair)
        write_json(args.out, report)  # after each pair: a long run keeps what it measured
    print(f'wrote {args.out}')


if __name__ == '__main__':
    main()
