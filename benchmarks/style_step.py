"""Seconds per Gatys step: the chapter's loop, the hybridized step, and PyTorch eager, in one run.

    .venv/bin/python benchmarks/style_step.py [--sizes 300x200 600x400 1200x800] [--steps 8]

One step: VGG-19 forward to conv5_1, the content loss at conv4_4, five Gram style losses and
total variation, backward to the image (no weight gradients), one Adam update. Rows:

* ``chapter``: the code as chapter 1 first teaches it (a Python loop over the layers);
* ``hybridized``: chapter 2's ``StyleLoss``, one HybridBlock hybridized with static memory;
* ``pytorch``: PyTorch eager doing the same math on the same weights (the row is skipped
  when torch is not installed: ``.venv/bin/pip install torch==2.13.0``).

Each row runs in its own process (its peak resident memory is its own) on the same input;
all rows must agree on the loss of the first step before their times count. FLOPs count the
convolutions and Gram products, forward and backward to the input, a multiply-add as 2; the
practical peak is the fastest 4096x4096 float32 matrix product through numpy or MXNet,
measured in the same run.
Results go to the terminal and to ``benchmarks/style_step.json``.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault('OMP_NUM_THREADS', str(os.cpu_count() or 1))
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the checkout's d2lstyle, installed or not
from d2lstyle.atomic import write_json  # noqa: E402
ROWS = ('chapter', 'hybridized', 'pytorch')


def layers():
    """The content and style layers of chapter 1's preset, as indices into VGG-19."""
    from d2lstyle import mxnet as d2l
    from d2lstyle import presets
    return d2l.preset_layers(presets.get('d2l'), 'vgg19')


def problem(shape, ctx=None):
    """The chapter's problem at ``shape`` on ``ctx`` (default: the CPU):
    (net, features, content_X, contents_Y, styles_Y), with the net's weights frozen."""
    import mxnet as mx
    from d2lstyle import mxnet as d2l
    from d2lstyle import weights
    ctx = ctx or mx.cpu()
    content_layers, style_layers = layers()
    net = d2l.truncated_net(weights.load_vgg('vgg19', ctx), content_layers, style_layers)
    features = lambda X: d2l.extract_features(net, X, content_layers, style_layers)
    content = d2l.read_image(ROOT / 'img' / 'tubingen.jpg')
    style = d2l.read_image(ROOT / 'img' / 'starry_night.jpg')
    content_X, contents_Y = d2l.get_contents(features, content, shape, ctx)
    _, styles_Y = d2l.get_styles(features, style, shape, ctx)
    return net, features, content_X, contents_Y, styles_Y


def mxnet_step(row, shape, ctx=None):
    from mxnet import autograd
    from d2lstyle import mxnet as d2l
    net, features, content_X, contents_Y, styles_Y = problem(shape, ctx)
    gen_img, styles_Y_gram, trainer = d2l.get_inits(content_X, 0.3, 50, styles_Y)
    if row == 'hybridized':
        loss = d2l.StyleLoss(net, *layers(), styles_Y)
        loss.hybridize(static_alloc=True, static_shape=True)
        targets = d2l.loss_targets(contents_Y, styles_Y_gram)

    def step():
        with autograd.record():
            X = gen_img()
            if row == 'hybridized':
                l = loss(X, *targets)[-1]
            else:
                contents_Y_hat, styles_Y_hat = features(X)
                l = d2l.compute_loss(X, contents_Y_hat, styles_Y_hat, contents_Y,
                                     styles_Y_gram)[-1]
        l.backward()
        trainer.step(1)
        return float(l.asscalar())  # waits for the step to finish
    return step


def pytorch_step(shape):
    import torch
    from d2lstyle import weights
    _, _, content_X, contents_Y, styles_Y = problem(shape)
    torch.set_num_threads(int(os.environ['OMP_NUM_THREADS']))
    content_layers, style_layers = layers()
    vgg = weights.load_torch_vgg('vgg19')[:max(content_layers + style_layers) + 1]
    vgg.requires_grad_(False)
    t = lambda nd: torch.from_numpy(nd.asnumpy())

    def gram(Y):
        Y = Y.reshape(Y.shape[1], -1)
        return Y @ Y.T / Y.numel()
    contents, grams = [t(Y) for Y in contents_Y], [gram(t(Y)) for Y in styles_Y]
    X = t(content_X).requires_grad_(True)
    optimizer = torch.optim.Adam([X], lr=0.3)

    def step():
        optimizer.zero_grad()
        Y, content_l, style_l = X, 0, 0
        for i, layer in enumerate(vgg):
            Y = layer(Y)
            if i in content_layers:
                content_l = content_l + ((Y - contents[content_layers.index(i)]) ** 2).mean()
            if i in style_layers:
                style_l = style_l + ((gram(Y) - grams[style_layers.index(i)]) ** 2).mean()
        tv_l = 0.5 * ((X[:, :, 1:] - X[:, :, :-1]).abs().mean() +
                      (X[:, :, :, 1:] - X[:, :, :, :-1]).abs().mean())
        l = content_l + 1e3 * style_l + 10 * tv_l
        l.backward()
        optimizer.step()
        return l.item()
    return step


def gflop_per_step(shape):
    """Convolutions and Gram products of one step: forward plus backward to the input.
    Block b of VGG (convb_1, convb_2, ...) has min(64 * 2^(b-1), 512) channels at 1/2^(b-1)
    of the image's width and height."""
    from d2lstyle import weights
    content_layers, style_layers = layers()
    (width, height), flops, channels = shape, 0, 3
    for name, i in weights.conv_layers('vgg19').items():
        if i > max(content_layers + style_layers):
            break
        scale = 2 ** (int(name[4]) - 1)  # 'conv3_1' is in block 3
        out, pixels = min(64 * scale, 512), (width // scale) * (height // scale)
        flops += 2 * channels * out * 9 * pixels
        if i in style_layers:
            flops += 2 * out * out * pixels
        channels = out
    return 2 * flops / 1e9


def seconds(work, repeats):
    """Wall-clock seconds of each of ``repeats`` calls of ``work``."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return times


def peak_gflops(n=4096, repeats=5):
    """The best of MXNet's and numpy's float32 matrix products: a practical peak."""
    import mxnet as mx
    import numpy as np
    a, b = (np.random.uniform(size=(n, n)).astype(np.float32) for _ in range(2))
    A, B = mx.nd.array(a), mx.nd.array(b)
    products = {'numpy matmul': lambda: a @ b,
                'mxnet dot': lambda: mx.nd.dot(A, B).wait_to_read(),
                'mxnet FullyConnected': lambda: mx.nd.FullyConnected(
                    A, B, no_bias=True, num_hidden=n).wait_to_read()}
    rates = {}
    for name, product in products.items():
        product()
        rates[name] = 2 * n ** 3 / min(seconds(product, repeats)) / 1e9
    return rates


def run_row(row, shape, steps, warmup=2):
    """In a child process: the first loss, then the median seconds of ``steps`` steps."""
    step = pytorch_step(shape) if row == 'pytorch' else mxnet_step(row, shape)
    first = step()
    for _ in range(warmup - 1):
        step()
    times = seconds(step, steps)
    times.sort()
    return {'row': row, 'shape': list(shape), 'first_loss': first,
            'seconds': times[len(times) // 2],
            'peak_rss_gb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2 ** 20}


def child(args, *extra):
    cmd = [sys.executable, __file__, *extra]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if done.returncode:
        raise RuntimeError(f'{" ".join(extra)} failed:\n{done.stderr[-2000:]}')
    return json.loads(done.stdout.strip().splitlines()[-1])


def torch_available():
    try:
        import torch  # noqa: F401
    except ImportError:
        print('torch is not installed: skipping the pytorch row '
              '(.venv/bin/pip install torch==2.13.0)')
        return False
    return True


def check_agreement(results):
    """Every row's first loss is the first row's (the chapter's where it ran)."""
    name, reference = results[0]['row'], results[0]['first_loss']
    for r in results[1:]:
        if abs(r['first_loss'] - reference) > 1e-3 * abs(reference):
            raise SystemExit(f"{r['row']} computes loss {r['first_loss']:.6g}, {name} "
                             f'{reference:.6g}: the rows do not compute the same step')


def table(results, peak):
    lines = [f'practical peak: {peak:.0f} GFLOP/s (best float32 4096x4096 matrix product)',
             f'{"size":>9} {"row":>8} {"s/step":>8} {"x torch":>8} {"GFLOP/s":>8} '
             f'{"of peak":>8} {"peak RSS":>9}']
    for r in results:
        torch_s = next((o['seconds'] for o in results
                        if o['row'] == 'pytorch' and o['shape'] == r['shape']), None)
        ratio = f'{r["seconds"] / torch_s:.2f}' if torch_s else '-'
        lines.append(f'{r["shape"][0]:>4}x{r["shape"][1]:<4} {r["row"]:>8} {r["seconds"]:>8.3f} '
                     f'{ratio:>8} {r["gflops"]:>8.1f} {r["gflops"] / peak:>8.0%} '
                     f'{r["peak_rss_gb"]:>7.2f} GB')
    return '\n'.join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--sizes', nargs='+', default=['300x200', '600x400', '1200x800'])
    parser.add_argument('--steps', type=int, default=8)
    parser.add_argument('--rows', nargs='+', choices=ROWS, default=list(ROWS))
    parser.add_argument('--out', type=Path, default=ROOT / 'benchmarks' / 'style_step.json')
    parser.add_argument('--row', choices=ROWS, help=argparse.SUPPRESS)  # child processes
    parser.add_argument('--peak', action='store_true', help=argparse.SUPPRESS)
    parser.add_argument('--peak-size', type=int, default=4096,
                        help='side of the matrix products that measure the practical peak')
    args = parser.parse_args(argv)
    if args.peak:
        return print(json.dumps(peak_gflops(args.peak_size)))
    if args.row:
        shape = tuple(int(v) for v in args.sizes[0].split('x'))
        return print(json.dumps(run_row(args.row, shape, args.steps)))
    rows = [r for r in args.rows if r != 'pytorch' or torch_available()]
    gemm = child(args, '--peak', '--peak-size', str(args.peak_size))
    peak = max(gemm.values())
    results = []
    for size in args.sizes:
        found = [child(args, '--row', row, '--sizes', size, '--steps', str(args.steps))
                 for row in rows]
        check_agreement(found)
        for r in found:
            r['gflops'] = gflop_per_step(tuple(r['shape'])) / r['seconds']
        results += found
        print(table(results, peak), flush=True)
    from d2lstyle import runtime
    report = {**runtime.measured_on(runtime.framework('mxnet')),
              'flops': 'convolutions and Gram products, forward and backward to the input',
              'peak_size': args.peak_size,
              'gemm_gflops': gemm, 'peak_gflops': peak, 'results': results}
    write_json(args.out, report)
    print(f'wrote {args.out}')


if __name__ == '__main__':
    main()
