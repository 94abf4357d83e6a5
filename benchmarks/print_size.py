"""A print-size picture in bounded memory: ``d2lstyle stylize --size 2400`` as a user runs it.

    .venv/bin/python benchmarks/print_size.py [--size 2400]

Runs the command with only the final size, so that it plans its own stages and optimises the
large ones in tiles (d2lstyle/plan.py, chapter 3's TiledObjective), in a process of its own whose peak
resident memory is read when it ends (as benchmarks/memory.py does). Keeps, for chapter 3:

* ``print_size.jpg``: the whole result, scaled to 1200 pixels wide;
* ``print_size_crop.png``: a 600x400 crop at full resolution, where the strokes show;
* ``print_size.json``: the run's record (stages, losses, seconds), its wall-clock seconds, its
  peak memory, and the seam measure at the last stage's tile borders.
"""
import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from d2lstyle.atomic import write_json  # noqa: E402
from memory import MEASURE  # noqa: E402

PHOTO, PAINTING = ROOT / 'img' / 'tubingen.jpg', ROOT / 'img' / 'starry_night.jpg'
CROP = (600, 400)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--size', type=int, default=2400)
    parser.add_argument('--out', type=Path, default=ROOT / 'benchmarks')
    parser.add_argument('--conditions', default='on a quiet machine',
                        help='how the machine was shared while the run was timed (recorded)')
    args = parser.parse_args(argv)
    from d2lstyle import mxnet as d2l
    from d2lstyle import runtime
    from d2lstyle.stylize import grid
    from d2lstyle.images import read_image, save_image
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / 'print.png'
        start = time.perf_counter()
        done = subprocess.run([sys.executable, '-c', MEASURE, 'stylize', str(PHOTO),
                               str(PAINTING), '-o', str(out), '--size', str(args.size)],
                              cwd=ROOT, stdout=subprocess.PIPE, text=True)
        wall = time.perf_counter() - start
        if done.returncode:
            raise SystemExit(f'stylize failed with exit code {done.returncode}')
        record = json.loads(out.with_suffix('.json').read_text())
        img = read_image(out)
    g = grid(img.size)
    # the crop: the church tower and the sky around it, at full resolution
    left, top = round(img.width * 0.55), round(img.height * 0.05)
    save_image(img.crop((left, top, left + CROP[0], top + CROP[1])),
               args.out / 'print_size_crop.png')
    save_image(img.resize((1200, round(1200 * img.height / img.width))), args.out / 'print_size.jpg')
    report = {**runtime.measured_on(runtime.framework('mxnet')),
              'size': list(img.size), 'process_seconds': wall,
              'conditions': args.conditions,
              'peak_gb': int(done.stdout.split('peak_kb')[-1]) * 1024 / 1e9,
              'tiles': len(g), 'tile': list(g.tile), 'seam_ratio': d2l.seam_ratio(img, g) if len(g) > 1 else None,
              'crop_box': [left, top, left + CROP[0], top + CROP[1]],
              'stages': record['stages'], 'elapsed_seconds': record['elapsed_seconds'],
              'losses': record['losses']}
    write_json(args.out / 'print_size.json', report)
    print(f"{img.width}x{img.height}: {wall:.0f} s, peak {report['peak_gb']:.2f} GB, "
          f"{len(g)} tiles at the last stage, seam ratio {report['seam_ratio']}")


if __name__ == '__main__':
    main()
