"""A print-size picture in bounded memory, scored: ``d2lstyle stylize --size 2400`` as a user
runs it.

    .venv/bin/python benchmarks/print_size.py [--size 2400] [--runs FOLDER]

Runs the command with only the final size, so that it plans its own stages and optimises those
that memory cannot hold whole in tiles (d2lstyle/plan.py, chapter 3's TiledObjective). It is a
time_to_quality run: a process of its own whose peak memory is read when it ends, saving its
picture every few iterations. A long run at print size is too slow for a small CPU, so the
yardstick is time_to_quality's reference of the same pair at ``--reference-size`` pixels, found
in ``--runs`` or run there. With the clock stopped, every saved picture is scored as
time_to_quality scores one (quality.Objective, quality.LPIPS):

* ``objective``: the loss at the final size (the tiles' mean where the whole image does not
  fit) over that of the reference's picture *enlarged* to the final size by bicubic resampling,
  as ``upscale`` enlarges a stage: below 1 is better than enlarging the long run;
* ``lpips``: the distance to the reference's picture, both compared at quality.LPIPS_SIDE.

Keeps, for chapter 3:

* ``print_size.jpg``: the whole result, scaled to 1200 pixels wide;
* ``print_size_crop.png``: a 600x400 crop at full resolution, where the strokes show;
* ``print_size.json``: the run's record (stages, losses, seconds), its wall-clock seconds, its
  peak memory, the seam measure at the last stage's tile borders, the scores of its saved
  pictures and how much its last stage still lowered the loss at its end.
"""
import argparse
import tempfile
from dataclasses import asdict
from pathlib import Path

import time_to_quality as ttq  # first: it puts the checkout's d2lstyle on the path
from d2lstyle.atomic import write_json

PHOTO, PAINTING = ttq.ROOT / 'img' / 'tubingen.jpg', ttq.ROOT / 'img' / 'starry_night.jpg'
CROP = (600, 400)
MEASURE = ('the loss at {size} px over that of the {reference} px reference enlarged to {size} '
           'px (bicubic)')


def keep_pictures(img, out):
    """The picture scaled to 1200 pixels wide, and a crop at full resolution (the church
    tower and the sky around it); the crop's box."""
    from d2lstyle.images import save_image
    left, top = round(img.width * 0.55), round(img.height * 0.05)
    box = (left, top, left + CROP[0], top + CROP[1])
    save_image(img.crop(box), out / 'print_size_crop.png')
    save_image(img.resize((1200, round(1200 * img.height / img.width))), out / 'print_size.jpg')
    return list(box)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--size', type=int, default=2400)
    parser.add_argument('--reference-size', type=int, default=1200,
                        help="the long side of time_to_quality's reference, the yardstick")
    parser.add_argument('--scale-steps', type=float, default=1.0,
                        help="multiply the reference's iterations (for a first look)")
    parser.add_argument('--runs', type=Path, default=Path(tempfile.gettempdir()) / 'd2lstyle-ttq',
                        help="time_to_quality's folder for runs: a finished run there is not "
                             "run again")
    parser.add_argument('--out', type=Path, default=ttq.ROOT / 'benchmarks')
    parser.add_argument('--conditions', default='on a quiet machine',
                        help='how the machine was shared while the run was timed (recorded)')
    args = parser.parse_args(argv)
    from d2lstyle import mxnet as d2l
    from d2lstyle import runtime
    from d2lstyle.images import read_image
    from d2lstyle.stylize import grid
    from quality import LPIPS
    plan, reference = ttq.Strategy('plan'), ttq.REFERENCE.scaled(args.scale_steps)
    runs = [ttq.run(s, PHOTO, PAINTING, size, ttq.folder(args.runs, PHOTO, PAINTING, size, s))
            for s, size in ((reference, args.reference_size), (plan, args.size))]
    (_, reference_snapshots, _), (record, snapshots, process) = runs
    score = ttq.Scorer(PHOTO, PAINTING, args.size, LPIPS())
    score.set_reference(read_image(reference_snapshots[-1][1]))
    points = ttq.curve(score, record, snapshots)
    img = read_image(snapshots[-1][1])
    # the run's own tiles (a record from before it stored them: the scorer's)
    g = grid(img.size, megapixels=record.get('tile_megapixels',
                                              score.objective.run.tile_megapixels))
    report = {**runtime.measured_on(runtime.framework('mxnet')),
              'size': list(img.size), 'process_seconds': process['process_seconds'],
              'conditions': args.conditions, 'peak_gb': process.get('peak_gb'),
              'tiles': len(g), 'tile': list(g.tile),
              'seam_ratio': d2l.seam_ratio(img, g) if len(g) > 1 else None,
              'crop_box': keep_pictures(img, args.out),
              'measure': MEASURE.format(size=args.size, reference=args.reference_size),
              'reference': {'size': args.reference_size, 'strategy': asdict(reference),
                            'enlarged': score.objective(score.reference)},
              'points': points, 'last_stage': ttq.convergence(record, snapshots),
              'stages': record['stages'], 'fallbacks': record['fallbacks'],
              'elapsed_seconds': record['elapsed_seconds'], 'losses': record['losses']}
    write_json(args.out / 'print_size.json', report)
    last = points[-1]
    peak = 'not measured' if report['peak_gb'] is None else f"{report['peak_gb']:.2f} GB"
    print(f"{img.width}x{img.height}: {process['process_seconds']:.0f} s, peak "
          f"{peak}, {len(g)} tiles at the last stage, seam ratio "
          f"{report['seam_ratio']}; {report['measure']}: {last['objective']:.3f}, LPIPS to the "
          f"reference {last['lpips']:.3f}")


if __name__ == '__main__':
    main()
