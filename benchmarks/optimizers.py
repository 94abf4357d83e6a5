"""Adam against L-BFGS on chapter 1's problem, in one process: the time each needs.

    .venv/bin/python benchmarks/optimizers.py [--size 300x200] [--evals 500]

Both minimise the same hybridized StyleLoss (chapter 2) from the content image with the
functions of chapter 3: ``gradient_descent`` with chapter 1's Adam (lr 0.3, decayed by 0.8
every 50 steps) and ``lbfgs``, each for the same number of evaluations (one evaluation is
one forward and backward pass through VGG-19). The block is built and run once before either
is timed. The result, with both loss histories, goes to ``benchmarks/optimizers.json``; the
figure that matters is the share of Adam's time L-BFGS needs to reach Adam's final loss.
"""
import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault('OMP_NUM_THREADS', str(os.cpu_count() or 1))
from style_step import ROOT, layers, problem  # noqa: E402

from d2lstyle.atomic import write_json  # noqa: E402


def histories(shape, num_evals, ctx=None):
    """Each method's history: rows of [seconds, content, style, TV, total] per evaluation."""
    import mxnet as mx
    from d2lstyle import mxnet as d2l
    from d2lstyle import presets
    net, features, content_X, contents_Y, styles_Y = problem(shape, ctx)
    loss = d2l.StyleLoss(net, *layers(), styles_Y)
    loss.hybridize(static_alloc=True, static_shape=True)
    targets = d2l.loss_targets(contents_Y, [d2l.gram(Y) for Y in styles_Y])
    d2l.Objective(loss, targets)(content_X)  # build the graph before the clock starts
    adam = d2l.Objective(loss, targets)
    chapter1_adam = mx.optimizer.Adam(**d2l.adam_settings(presets.get('d2l')))
    d2l.gradient_descent(adam, content_X, chapter1_adam, num_evals)
    lbfgs = d2l.Objective(loss, targets)
    d2l.lbfgs(lbfgs, content_X, num_evals)
    return {'adam': adam.history, 'lbfgs': lbfgs.history}


def summary(found, shape, num_evals):
    adam, lbfgs = found['adam'], found['lbfgs']
    target, adam_seconds = adam[-1][4], adam[-1][0]
    reached = [i for i, row in enumerate(lbfgs) if row[4] <= target]
    from d2lstyle import runtime
    report = {**runtime.measured_on(runtime.framework('mxnet')), 'shape': list(shape),
              'num_evals': num_evals,
              'results': [{'method': name, 'evals': len(h), 'seconds': h[-1][0],
                           'final_total': h[-1][4], 'history': h}
                          for name, h in found.items()],
              'adam_final_total': target}
    if reached:
        i = reached[0]
        report.update(lbfgs_evals_to_adam=i + 1, lbfgs_seconds_to_adam=lbfgs[i][0],
                      time_ratio=lbfgs[i][0] / adam_seconds)
    return report


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--size', default='300x200')
    parser.add_argument('--evals', type=int, default=500)
    parser.add_argument('--out', type=Path, default=ROOT / 'benchmarks' / 'optimizers.json')
    args = parser.parse_args(argv)
    shape = tuple(int(v) for v in args.size.split('x'))
    report = summary(histories(shape, args.evals), shape, args.evals)
    for row in report['results']:
        print(f"{row['method']:>6}: {row['evals']} evaluations, {row['seconds']:.1f} s, "
              f"final total {row['final_total']:.4g}")
    if 'time_ratio' in report:
        print(f"L-BFGS reached Adam's final {report['adam_final_total']:.4g} after "
              f"{report['lbfgs_evals_to_adam']} evaluations, {report['lbfgs_seconds_to_adam']:.1f} s:"
              f" {report['time_ratio']:.2f} of Adam's time")
    else:
        print(f"L-BFGS did not reach Adam's final {report['adam_final_total']:.4g}")
    write_json(args.out, report)
    print(f'wrote {args.out}')


if __name__ == '__main__':
    sys.exit(main())
