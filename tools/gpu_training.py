"""Train the shipped transform networks on a PyTorch-only GPU, with the book's own loss.

The GPU machine lent to this project runs PyTorch, not MXNet (see the README's "A trained
network per painting"). This script is the MXNet side of that round trip:

    python tools/gpu_training.py bundle PAINTING... -o .gpu/bundle.npz    # here, with MXNet
    python3 tools/torch_train.py .gpu/bundle.npz --out OUT ...            # there, on the GPU
    python tools/gpu_training.py import NAME --stages OUT=RUN ...         # here: the model

`bundle` writes what the loss needs, computed by MXNet: the VGG-19 kernels (the 8-bit
original's, stored as table and index, so exactly), the preset's layers and weights, and each
painting's Gram matrices. `import` loads a run's trained weights into chapter 6's
TransformNet, exports it with float16 weights, measures how far float16 moves its picture,
and writes the record: the commands, settings, photographs, steps, time, machine and losses.
"""
import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault('OMP_NUM_THREADS', str(os.cpu_count()))
import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def pack_kernels(vgg, last):
    """Each conv layer's kernel up to index last: (table, uint8 index) where it has at most 256
    distinct values (the quantised original's), else the float32 array; and its bias."""
    arrays = {}
    for i in range(last + 1):
        if not hasattr(vgg[i], 'weight'):
            continue
        kernel, bias = vgg[i].weight.data().asnumpy(), vgg[i].bias.data().asnumpy()
        table, index = np.unique(kernel, return_inverse=True)
        if len(table) <= 256:
            arrays[f'k{i}_table'], arrays[f'k{i}_index'] = table, index.astype(np.uint8).reshape(kernel.shape)
        else:
            arrays[f'k{i}'] = kernel
        arrays[f'b{i}'] = bias
    return arrays


def make_bundle(paintings, crop, max_style_size=1024, preset='d2l', content_weight=1.0):
    """The arrays torch_train.py reads: kernels, each painting's Grams, and 'config'."""
    import dataclasses
    import mxnet as mx
    from d2lstyle import mxnet as d2l, presets
    from d2lstyle.images import read_image
    from d2lstyle.weights import load_vgg
    settings = dataclasses.replace(presets.get(preset), content_weight=content_weight)
    vgg = load_vgg('vgg19')
    arrays, sizes = {}, {}
    for path in paintings:
        img = read_image(path)
        sizes[path.stem] = min(img.size[0], max_style_size)
        loss, grams = d2l.perceptual_loss(vgg, settings, img, sizes[path.stem], crop, mx.cpu())
        for j, G in enumerate(grams):
            arrays[f'gram_{path.stem}_{j}'] = G.asnumpy()[0]
    arrays.update(pack_kernels(loss.net, max(loss.content_layers + loss.style_layers)))
    config = {'preset': preset, 'crop': crop, 'style_sizes': sizes,
              'content_layers': loss.content_layers, 'style_layers': loss.style_layers,
              'sizes': loss.sizes, 'content_weight': loss.content_weight,
              'style_weights': loss.style_weights, 'tv_weight': loss.tv_weight,
              'rgb_mean': d2l.rgb_mean.tolist(), 'rgb_std': d2l.rgb_std.tolist()}
    arrays['config'] = np.frombuffer(json.dumps(config).encode(), dtype=np.uint8)
    return arrays


def bundle(args):
    arrays = make_bundle(args.paintings, args.crop, args.max_style_size, args.preset,
                         args.content_weight)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.output, **arrays)
    print(f'wrote {args.output} ({args.output.stat().st_size / 1e6:.1f} MB)')


def load_stage(folder, run):
    """One run's weights (in parameter order), its record and its losses from a torch_train
    output folder."""
    record = json.loads((folder / 'record.json').read_text())
    weights = {k: v for f in sorted(folder.glob('weights_*.npz')) for k, v in np.load(f).items()}
    params = [weights[f'{run}/{i:03d}'] for i in range(len([k for k in weights
                                                              if k.startswith(f'{run}/')]))]
    k = record['runs'].index(run)
    losses = [[step, seconds, *values[k]] for step, seconds, values in record['history']]
    return params, record, losses


def read_stages(specs):
    """The runs FOLDER=RUN, in the order trained: the last one's weights and record, each
    run's summary, and the losses of all, steps and seconds counted on from run to run."""
    stages, losses, steps, seconds = [], [], 0, 0.0
    for spec in specs:
        folder, run = spec.split('=', 1)
        params, record, run_losses = load_stage(Path(folder), run)
        losses += [[step + steps, t + seconds, *v] for step, t, *v in run_losses]
        steps, seconds = steps + record['steps'], seconds + record['seconds']
        stages.append({'command': record['command'], 'run': run, 'steps': record['steps'],
                       'seconds': round(record['seconds'], 1),
                       'content_weight': float(run.split('@')[0].split(':')[1])})
    return params, record, stages, losses


def export_float16(params, width, prefix):
    """TransformNet(width) holding params, exported to prefix with float16 weights; returns
    its two files and how far float16 moves its picture."""
    import mxnet as mx
    from mxnet import nd
    from d2lstyle import mxnet as d2l
    net = d2l.TransformNet(width)
    net.initialize(ctx=mx.cpu())
    net(nd.zeros((1, 3, 64, 64)))
    for p, value in zip(net.collect_params().values(), params, strict=True):
        p.set_data(nd.array(value))
    files = d2l.export_model(net, prefix)
    nd.save(str(files[1]), {k: v.astype('float16') for k, v in nd.load(str(files[1])).items()})
    return files, float16_difference(net, prefix)


def import_model(args):
    """Export the last run's weights as a model in args.models, with its record."""
    from d2lstyle.atomic import write_json
    from d2lstyle.runtime import framework, versions
    from d2lstyle.weights import sha256
    params, record, stages, losses = read_stages(args.stages)
    with tempfile.TemporaryDirectory() as tmp:
        files, difference = export_float16(params, int(record['settings']['width']),
                                           Path(tmp) / args.name)
        for f in files:  # replaced whole: a reader never sees half a file
            os.replace(f, args.models / f.name)
    files = [args.models / f.name for f in files]
    names = ('iteration', 'seconds', 'content', 'style', 'tv', 'total')
    write_json(args.models / f'{args.name}.json', {
        'command': ' && '.join(s['command'] for s in stages),
        'trained_by': "tools/torch_train.py, chapter 6's step in PyTorch (see its docstring)",
        'stages': stages, 'settings': settings(record, stages), 'data': record['photos'],
        'iterations': sum(s['steps'] for s in stages),
        'seconds': round(sum(s['seconds'] for s in stages), 1),
        'losses': [dict(zip(names, map(float, l))) for l in losses],
        'machine': f"1 {record['device']} (PyTorch {record['torch']})",
        'files': {f.name: sha256(f) for f in files}, 'stored_as': 'float16',
        'float16_difference': difference, 'versions': versions(framework('mxnet'))})
    print(f'wrote {args.models / args.name}-*, {files[1].stat().st_size / 1e6:.2f} MB of '
          f'weights, and {args.name}.json')


def settings(record, stages):
    """The last stage's settings, with the names and units of d2lstyle train's record."""
    config = json.loads(bytes(np.load(record['settings']['bundle'])['config']).decode())
    painting = stages[-1]['run'].split(':')[0]
    return {**record['settings'], 'preset': config['preset'], 'crop': config['crop'],
            'style': f'img/{painting}.jpg', 'style_size': config['style_sizes'][painting],
            'content_weight': stages[-1]['content_weight'] * config['content_weight'],
            'batch_size': int(record['settings']['batch_size']),
            'width': int(record['settings']['width'])}


def float16_difference(net, prefix, photo='img/tubingen.jpg', size=1200):
    """How far the float16 file's picture is from the float32 network's, in 0..255 levels:
    the largest and the mean absolute difference over the pixels of a held-out photo."""
    import mxnet as mx
    from d2lstyle import mxnet as d2l
    from d2lstyle.images import read_image, stage_shape
    img = read_image(ROOT / photo)
    img = img.resize(stage_shape(img.size, size))
    a = np.asarray(d2l.stylize_photo(net, img, mx.cpu()), dtype=np.int16)
    b = np.asarray(d2l.stylize_photo(d2l.load_model(prefix, mx.cpu()), img, mx.cpu()),
                   dtype=np.int16)
    return {'photo': photo, 'shape': list(img.size), 'max': int(np.abs(a - b).max()),
            'mean': round(float(np.abs(a - b).mean()), 4)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    commands = parser.add_subparsers(dest='command', required=True)
    b = commands.add_parser('bundle')
    b.add_argument('paintings', type=Path, nargs='+')
    b.add_argument('-o', '--output', type=Path, required=True)
    b.add_argument('--preset', default='d2l')
    b.add_argument('--content-weight', type=float, default=1.0)
    b.add_argument('--crop', type=int, default=256)
    b.add_argument('--max-style-size', type=int, default=1024)
    i = commands.add_parser('import')
    i.add_argument('name', help='the shipped model to write, e.g. starry_night')
    i.add_argument('--stages', nargs='+', required=True,
                   help='FOLDER=RUN of torch_train.py outputs, in the order trained')
    i.add_argument('--models', type=Path, default=ROOT / 'd2lstyle' / 'models',
                   help="where to write the model (default: the package's shipped models)")
    args = parser.parse_args(argv)
    return bundle(args) if args.command == 'bundle' else import_model(args)


if __name__ == '__main__':
    sys.exit(main())
