"""The shipped transform networks, judged at the size of a print: one per painting.

    .venv/bin/python benchmarks/shipped_models.py [--size 1200]

For every painting with a shipped network, each held-out photograph (never a training photo)
goes through the network at ``--size`` pixels on its long side, and chapter 4's independent
judge (quality's ``pair_judge``: VGG-16, content over the painting's, style and texture
over the photograph's) scores the result at that size. Tübingen is also stylized by chapter
1's method as ``d2lstyle stylize --size`` plans it, the optimisation the network stands in for;
that picture is kept as a JPEG beside the results, for chapter 6's gallery. Older networks of
the same painting (``OLDER``) are judged too, so that a retrained network can be compared with
the one it replaced.

Writes ``benchmarks/shipped_models.json``; chapter 6 shows it.
"""
import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault('OMP_NUM_THREADS', str(os.cpu_count() or 1))
from quality import ROOT, pair_judge  # noqa: E402

from d2lstyle.atomic import write_json  # noqa: E402

PAINTINGS = {'starry_night': 'starry_night.jpg', 'great_wave': 'great_wave.jpg',
             'the_scream': 'the_scream.jpg', 'shipwreck': 'shipwreck.jpg',
             'woman_with_hat': 'woman-with-hat-matisse.jpg'}
PHOTOS = ('tubingen.jpg', 'flower.jpg')  # held out of img/photos, the training set
OPTIMISED = 'tubingen.jpg'
OLDER = {'starry_night': ['starry_night_instancenorm']}


def network(model, photo, shape):
    """The model's picture of photo at shape and the seconds of its one pass."""
    import mxnet as mx
    from d2lstyle import runtime, transfer
    stylize = transfer.load(runtime.framework('mxnet'), model, mx.cpu())
    stylize(photo.resize(shape))  # the first call at this size builds the graph
    start = time.perf_counter()
    out = stylize(photo.resize(shape))
    return out, time.perf_counter() - start


def optimise(photo, painting, size, out):
    """chapter 1's method as ``d2lstyle stylize --size`` plans it; its wall-clock seconds."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, '-m', 'd2lstyle', 'stylize', str(photo),
                           str(painting), '-o', str(out), '--size', str(size)], cwd=ROOT,
                          capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f'stylize failed:\n{done.stderr[-2000:]}')
    return time.perf_counter() - start


def measure(name, painting_file, size, folder):
    """The judge's scores of the painting's networks (and, on OPTIMISED, of the plan's
    optimisation, whose picture goes into ``folder``) on each held-out photograph."""
    from d2lstyle.images import read_image
    result = {'painting': painting_file, 'photos': {}}
    for photo_file in PHOTOS:
        photo = read_image(ROOT / 'img' / photo_file)
        judge = pair_judge(photo_file, painting_file, size)
        shape = judge.shape
        scores = {'shape': list(shape)}
        for model in [name] + OLDER.get(name, []):
            out, seconds = network(model, photo, shape)
            scores[model] = {**judge(out), 'seconds': round(seconds, 2)}
        if photo_file == OPTIMISED:
            jpeg = folder / f'{Path(photo_file).stem}_{name}.jpg'
            png = jpeg.with_suffix('.png')
            seconds = optimise(ROOT / 'img' / photo_file, ROOT / 'img' / painting_file, size, png)
            picture = read_image(png)
            scores['optimisation'] = {**judge(picture), 'seconds': round(seconds, 1)}
            picture.save(jpeg, quality=90)
            png.unlink()
            png.with_suffix('.json').unlink(missing_ok=True)
        result['photos'][photo_file] = scores
        print(name, photo_file, {k: v for k, v in scores.items() if k != 'shape'}, flush=True)
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--size', type=int, default=1200, help='long side, pixels')
    parser.add_argument('--models', nargs='+', default=list(PAINTINGS), choices=list(PAINTINGS))
    parser.add_argument('--out', type=Path, default=ROOT / 'benchmarks' / 'shipped_models.json',
                        help='the results; the optimised pictures go into the folder of the '
                             'same name beside it')
    args = parser.parse_args(argv)
    from d2lstyle import runtime
    folder = args.out.with_suffix('')
    folder.mkdir(exist_ok=True)
    report = {**runtime.measured_on(runtime.framework('mxnet')), 'size': args.size,
              'models': {}}
    for name in args.models:
        report['models'][name] = measure(name, PAINTINGS[name], args.size, folder)
        write_json(args.out, report)  # after each model: a long run keeps what it measured
    print(f'wrote {args.out}')


if __name__ == '__main__':
    main()
