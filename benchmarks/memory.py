"""Peak memory of the three commands against the size of what they compute, for d2lstyle/memory.py.

    .venv/bin/python benchmarks/memory.py [--quick]

Each run is a fresh process (``d2lstyle ...`` with two steps), whose peak resident memory is
read from /proc/self/status (VmHWM) when it ends. (Not ``ru_maxrss``: Linux folds the
parent's resident memory into a child's at exec, so under a large parent it reads high.) For each command it fits peak = base + slope x
size by least squares (size: megapixels of the largest stage for ``stylize`` and ``transform``,
crop pixels times images per step for ``train``) and prints the fit beside the constants
that d2lstyle/memory.py estimates with, which must lie above every measured peak.
Writes ``benchmarks/memory.json``.
"""
import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
PHOTO, PAINTING = ROOT / 'img' / 'tubingen.jpg', ROOT / 'img' / 'starry_night.jpg'
MEASURE = ('import re, sys; from d2lstyle import cli; code = cli.main(sys.argv[1:]); '
           'status = open("/proc/self/status").read(); '
           'print("peak_kb", re.search(r"VmHWM:\\s*(\\d+) kB", status).group(1)); sys.exit(code)')


def peak_gb(argv):
    """Peak resident memory of ``d2lstyle ARGV`` in a process of its own, in GB."""
    done = subprocess.run([sys.executable, '-c', MEASURE, *map(str, argv)], cwd=ROOT,
                          capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f'd2lstyle {" ".join(map(str, argv))} failed:\n{done.stderr}')
    return printed_peak_gb(done.stdout)


def printed_peak_gb(stdout):
    """The peak resident memory, in GB, that MEASURE printed last in ``stdout``; None where
    it printed none (the command ended before MEASURE's last line)."""
    found = re.findall(r'^peak_kb (\d+)$', stdout, re.M)
    return int(found[-1]) * 1024 / 1e9 if found else None


def stylize_runs(sizes, out):
    """Stages larger than memory holds whole (memory.tile_megapixels) pass in tiles (with Adam,
    whatever was asked)."""
    from d2lstyle import memory
    from d2lstyle.stylize import grid
    from d2lstyle.images import stage_shape
    for size in sizes:
        width, height = stage_shape(Image.open(PHOTO).size, size)
        tile = grid((width, height), megapixels=memory.tile_megapixels()).tile
        for optimizer in ('adam', 'lbfgs')[:1 if tile != (width, height) else 2]:
            start = time.perf_counter()
            gb = peak_gb(['stylize', PHOTO, PAINTING, '-o', out / 'out.png', '--size', size,
                          '--iterations', 2, '--optimizer', optimizer])
            yield {'command': 'stylize', 'optimizer': optimizer, 'size': size,
                   'megapixels': tile[0] * tile[1] / 1e6,
                   'image_megapixels': width * height / 1e6, 'peak_gb': gb,
                   'seconds': time.perf_counter() - start}


def transform_runs(sizes, out):
    """Photographs above memory.TRANSFORM_TILE_MEGAPIXELS pass in tiles."""
    from d2lstyle.transfer import pass_megapixels, photo_tiles
    for size in sizes:
        photo = out / f'photo_{size}.png'
        Image.open(PHOTO).resize((size, size * 2 // 3)).save(photo)
        image, grid = size * (size * 2 // 3) / 1e6, photo_tiles(size, size * 2 // 3)
        start = time.perf_counter()
        gb = peak_gb(['transform', '--model', 'starry_night', photo, out / 'out.png'])
        yield {'command': 'transform', 'size': size,
               'megapixels': pass_megapixels(grid) if grid else image,
               'image_megapixels': image, 'peak_gb': gb, 'seconds': time.perf_counter() - start}


def train_runs(crops, out):
    for crop in crops:
        gb = peak_gb(['train', PAINTING, '-o', out / f'model_{crop}', '--iterations', 2,
                      '--crop', crop, '--batch-size', 2, '--save-every', 1000])
        yield {'command': 'train', 'crop': crop, 'megapixels': 2 * crop * crop / 1e6,
               'peak_gb': gb}


def fit(rows):
    """Least squares of peak = base + slope x (megapixels of one pass), on the runs in one
    piece (a tiled run's whole-image arrays are a term the estimate adds on top)."""
    rows = [r for r in rows if r.get('image_megapixels', r['megapixels']) == r['megapixels']]
    x = np.array([r['megapixels'] for r in rows])
    y = np.array([r['peak_gb'] for r in rows])
    slope, base = np.polyfit(x, y, 1)
    return {'base_gb': float(base), 'gb_per_megapixel': float(slope)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--quick', action='store_true', help='smaller sizes, for a first look')
    parser.add_argument('--sizes', type=int, nargs='+', help='long sides of the stylize and '
                        'transform runs (default: 300 to 4800; --quick: 150 to 600)')
    parser.add_argument('--crops', type=int, nargs='+', help='crop sides of the train runs')
    parser.add_argument('--out', type=Path, default=ROOT / 'benchmarks' / 'memory.json')
    args = parser.parse_args(argv)
    sizes = args.sizes or ([150, 300, 600] if args.quick else [300, 600, 1200, 2400, 4800])
    crops = args.crops or ([64, 128] if args.quick else [64, 128, 256])
    sys.path.insert(0, str(ROOT))
    from d2lstyle import memory, runtime
    from d2lstyle.atomic import write_json
    report = {**runtime.measured_on(runtime.framework('mxnet')), 'runs': [], 'fits': {}}
    with tempfile.TemporaryDirectory() as tmp:
        for runs in (stylize_runs(sizes, Path(tmp)), transform_runs(sizes, Path(tmp)),
                     train_runs(crops, Path(tmp))):
            for row in runs:
                print(json.dumps(row), flush=True)
                report['runs'].append(row)
    for command in ('stylize', 'transform', 'train'):
        rows = [r for r in report['runs'] if r['command'] == command]
        report['fits'][command] = fit(rows)
        model = memory.MODELS[command]
        worst = max(r['peak_gb'] / model.need_gb(r['megapixels'], r.get('image_megapixels', 0))
                    for r in rows)
        print(f'{command:>9}: measured {report["fits"][command]}; d2lstyle/memory.py uses '
              f'{model}; highest peak / estimate {worst:.2f} (must be below 1)')
    write_json(args.out, report)


if __name__ == '__main__':
    main()
