"""The shipped transform network against chapter 1's optimisation, in one process.

    .venv/bin/python benchmarks/feed_forward.py [--model starry_night] [--repeats 5]

Both make a 1200x800 image of the Tübingen photograph in the style of *The Starry Night*:

* feed-forward: one pass of the shipped model (chapter 6), median of ``--repeats`` after one
  call that builds the graph;
* optimisation: chapter 1's recipe as d2l publishes it (``RECIPE``: 500 steps at 300x200,
  then 300 at 1200x800), each step timed with chapter 2's hybridized StyleLoss (the faster of
  the book's two steps, which makes the comparison harder for the network). A few steps of
  each stage are timed, and their median multiplied by the stage's step count: running all 800
  steps would take most of an hour and measure the same step again.

Writes ``benchmarks/feed_forward.json`` and prints the ratio.
"""
import argparse
import os
import statistics
import sys
from pathlib import Path

os.environ.setdefault('OMP_NUM_THREADS', str(os.cpu_count() or 1))
from style_step import ROOT, mxnet_step, seconds  # noqa: E402

from d2lstyle.atomic import write_json  # noqa: E402

TARGET_SECONDS, TARGET_RATIO = 3.0, 500
RECIPE = (((300, 200), 500), ((1200, 800), 300))  # (width, height), steps of each stage


def transform_seconds(model, repeats, ctx=None, shape=RECIPE[-1][0]):
    import mxnet as mx
    from d2lstyle import mxnet as d2l
    from d2lstyle import runtime, transfer
    ctx = ctx or mx.cpu()
    # chapter 6's stylize_photo with the network
    stylize_photo = transfer.load(runtime.framework('mxnet'), model, ctx)
    photo = d2l.read_image(ROOT / 'img' / 'tubingen.jpg').resize(shape)
    stylize_photo(photo)
    return seconds(lambda: stylize_photo(photo), repeats)


def optimisation_seconds(steps, scale=1):
    stages = []
    for shape, num_steps in RECIPE:
        shape = tuple(side // scale for side in shape)
        step = mxnet_step('hybridized', shape)
        step()  # builds the graph
        times = seconds(step, steps)
        stages.append({'shape': list(shape), 'steps': num_steps,
                       'seconds_per_step': statistics.median(times), 'timed': times})
    return stages


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--model', default='starry_night')
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--steps', type=int, default=5, help='steps timed per stage')
    parser.add_argument('--scale', type=int, default=1,
                        help='divide the sizes by this (a smoke test at a tiny size)')
    parser.add_argument('--out', type=Path, default=ROOT / 'benchmarks' / 'feed_forward.json')
    args = parser.parse_args(argv)
    from d2lstyle import runtime
    shape = tuple(side // args.scale for side in RECIPE[-1][0])
    transform_times = transform_seconds(args.model, args.repeats, shape=shape)
    transform = statistics.median(transform_times)
    stages = optimisation_seconds(args.steps, args.scale)
    slow = sum(s['steps'] * s['seconds_per_step'] for s in stages)
    report = {**runtime.measured_on(runtime.framework('mxnet')), 'model': args.model,
              'transform_shape': list(shape), 'transform_seconds': transform,
              'transform_timed': transform_times,
              'optimisation_stages': stages, 'optimisation_seconds': slow,
              'ratio': slow / transform}
    write_json(args.out, report)
    print(report['machine'])
    print(f'transform network, {shape[0]}x{shape[1]}: {transform:.2f} s (median of {args.repeats}; '
          f'target <= {TARGET_SECONDS} s)')
    for s in stages:
        print(f"optimisation, {s['shape'][0]}x{s['shape'][1]}: {s['steps']} steps x "
              f"{s['seconds_per_step']:.3f} s")
    print(f'optimisation, both stages: {slow:.0f} s; the transform network is '
          f'{slow / transform:.0f}x faster (target >= {TARGET_RATIO}x)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
