"""Seconds per Gatys step in the PyTorch tab, on the GPU when there is one, in one run.

    python benchmarks/torch_step.py [--sizes 1200x800 2400x1600] [--steps 10]

One step is chapter 1's (VGG-19 to conv5_1, the content loss at conv4_4, five Gram style
losses and total variation, backward to the image, one Adam update) on the real weights, the
Tübingen photograph and Starry Night. Rows, on the same input:

* ``chapter``: chapter 1's functions, eager PyTorch;
* ``compiled``: chapter 2's ``StyleLoss`` under ``torch.compile``.

Both must agree on the first step's loss (relative 1e-3) before their times count. A time is
the median of ``--steps`` steps after two untimed ones, each waited for (``l.item()``);
compiling is timed apart. Peak memory is PyTorch's allocator peak on a CUDA device (none on a
CPU). Results go to the terminal and to ``benchmarks/torch_step.json``.
"""
import argparse
import platform
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the checkout's d2lstyle, installed or not
from d2lstyle import presets, weights  # noqa: E402
from d2lstyle import torch as d2l  # noqa: E402
from d2lstyle.atomic import write_json  # noqa: E402
from d2lstyle.common.layers import preset_layers  # noqa: E402
from d2lstyle.images import read_image  # noqa: E402

ROWS = ('chapter', 'compiled')


def problem(net, size, device):
    """The loss of each row and the starting image at size (w, h)."""
    content_layers, style_layers = preset_layers(presets.get('d2l'), 'vgg19')

    def features(X):
        return d2l.extract_features(net, X, content_layers, style_layers)
    content_X, contents_Y = d2l.get_contents(features, read_image(ROOT / 'img/tubingen.jpg'),
                                             size, device)
    _, styles_Y = d2l.get_styles(features, read_image(ROOT / 'img/starry_night.jpg'), size,
                                 device)
    styles_Y_gram = [d2l.gram(Y) for Y in styles_Y]

    def chapter(X):
        contents_Y_hat, styles_Y_hat = features(X)
        return d2l.compute_loss(X, contents_Y_hat, styles_Y_hat, contents_Y, styles_Y_gram)[-1]
    compiled = torch.compile(d2l.StyleLoss(net, content_layers, style_layers, styles_Y))
    targets = d2l.loss_targets(contents_Y, styles_Y_gram)
    return {'chapter': chapter, 'compiled': lambda X: compiled(X, *targets)[-1]}, content_X


def time_row(loss_fn, X, steps):
    """(first loss, seconds of the first two steps, median seconds per step, peak GB)."""
    gen_img, _, optimizer, _ = d2l.get_inits(X, 0.3, 50, [])
    if X.is_cuda:
        torch.cuda.reset_peak_memory_stats()
    times, first = [], None
    for _ in range(steps + 2):
        start = time.perf_counter()
        optimizer.zero_grad()
        l = loss_fn(gen_img())
        l.backward()
        optimizer.step()
        value = l.item()  # waits for the device
        first = value if first is None else first
        times.append(time.perf_counter() - start)
    peak = torch.cuda.max_memory_allocated() / 1e9 if X.is_cuda else None
    return first, sum(times[:2]), sorted(times[2:])[steps // 2], peak


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--sizes', nargs='+', default=['1200x800', '2400x1600'])
    parser.add_argument('--steps', type=int, default=10)
    parser.add_argument('--out', type=Path, default=ROOT / 'benchmarks' / 'torch_step.json')
    args = parser.parse_args(argv)
    device = d2l.try_gpu()
    torch.backends.cudnn.benchmark = True
    net = weights.load_torch_vgg('vgg19', device)
    machine = (torch.cuda.get_device_name(device) if device.type == 'cuda'
               else f'{platform.processor() or platform.machine()} CPU')
    results = []
    for size in args.sizes:
        w, h = map(int, size.split('x'))
        losses, X = problem(net, (w, h), device)
        row = {'size': size}
        for name in ROWS:
            first, warm_s, step_s, peak = time_row(losses[name], X, args.steps)
            row[name] = {'first_loss': first, 'first_two_steps_s': warm_s, 's_per_step': step_s,
                         'peak_gb': peak}
            print(f'{size} {name:>8}: {step_s * 1e3:8.1f} ms/step, first two steps '
                  f'{warm_s:.1f} s, peak {peak if peak is None else round(peak, 2)} GB',
                  flush=True)
        a, b = row['chapter']['first_loss'], row['compiled']['first_loss']
        if abs(a - b) > 1e-3 * abs(a):
            sys.exit(f'{size}: the rows compute different losses ({a} and {b}); no times kept')
        results.append(row)
    write_json(args.out, {'machine': machine, 'torch': torch.__version__, 'steps': args.steps,
                          'results': results})
    print(f'written: {args.out}')


if __name__ == '__main__':
    main()
