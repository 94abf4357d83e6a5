"""The shipped transform network against chapter 1's optimisation, in one process.

    .venv/bin/python benchmarks/fast_transfer.py [--model starry_night] [--repeats 5]

Both make a 1200x800 image of the Tübingen photograph in the style of *The Starry Night*:

* fast: one forward pass of the shipped model (chapter 5), median of ``--repeats`` after one
  call that builds the graph;
* optimisation: chapter 1's two stages in the full profile (500 steps at 300x200, then 300 at
  1200x800), each step timed with chapter 2's hybridized StyleLoss (the faster of the book's
  two steps, which makes the comparison harder for the network). A few steps of each stage are
  timed, and their median multiplied by the stage's step count: running all 800 steps would
  take most of an hour and measure the same step again.

Writes ``benchmarks/fast_transfer.json`` and prints the ratio.
"""
import argparse
import json
import os
import statistics
import sys
from pathlib import Path

os.environ.setdefault('OMP_NUM_THREADS', str(os.cpu_count() or 1))
from optimizers import machine  # noqa: E402
from style_step import ROOT, mxnet_step, seconds  # noqa: E402

TARGET_SECONDS, TARGET_RATIO = 3.0, 500


def transform_seconds(model, repeats, ctx=None):
    import mxnet as mx
    from d2lstyle import fast
    from d2lstyle import mxnet as d2l
    ctx = ctx or mx.cpu()
    net = fast.load(model, ctx)
    photo = d2l.read_image(ROOT / 'img' / 'tubingen.jpg').resize((1200, 800))
    d2l.stylize_photo(net, photo, ctx)
    return seconds(lambda: d2l.stylize_photo(net, photo, ctx), repeats)


def optimisation_seconds(steps):
    from d2lstyle import profiles
    stages = []
    for stage in profiles.PROFILES['full'].stages:
        step = mxnet_step('fast', stage.image_shape)
        step()  # builds the graph
        times = seconds(step, steps)
        stages.append({'shape': list(stage.image_shape), 'steps': stage.num_steps,
                       'seconds_per_step': statistics.median(times), 'timed': times})
    return stages


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--model', default='starry_night')
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--steps', type=int, default=5, help='steps timed per stage')
    parser.add_argument('--out', type=Path, default=ROOT / 'benchmarks' / 'fast_transfer.json')
    args = parser.parse_args(argv)
    fast_times = transform_seconds(args.model, args.repeats)
    fast = statistics.median(fast_times)
    stages = optimisation_seconds(args.steps)
    slow = sum(s['steps'] * s['seconds_per_step'] for s in stages)
    report = {'machine': machine(), 'model': args.model, 'transform_1200x800_seconds': fast,
              'transform_timed': fast_times, 'optimisation_stages': stages,
              'optimisation_seconds': slow, 'ratio': slow / fast}
    args.out.write_text(json.dumps(report, indent=1) + '\n')
    print(report['machine'])
    print(f'fast, 1200x800: {fast:.2f} s (median of {args.repeats}; target <= {TARGET_SECONDS} s)')
    for s in stages:
        print(f"optimisation, {s['shape'][0]}x{s['shape'][1]}: {s['steps']} steps x "
              f"{s['seconds_per_step']:.3f} s")
    print(f'optimisation, both stages: {slow:.0f} s; fast is {slow / fast:.0f}x faster '
          f'(target >= {TARGET_RATIO}x)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
