"""Chapter 6's training step in PyTorch, for the GPU lent to this project (it has no MXNet).

It trains several transform networks at once, one per (painting, content weight) run: every
step draws one batch of photo crops, runs each network on it, and sends all the networks'
outputs and the photos through VGG-19 as one batch. A network's loss is chapter 6's
PerceptualLoss: the loss of its own outputs only, so the networks do not interact, and Adam,
being per parameter, treats them as if each had its own optimiser.

Everything the loss needs comes from MXNet, through `tools/gpu_training.py bundle`: the VGG
kernels, the layers, the weights and the paintings' Gram matrices. tests/test_torch_port.py
checks, where PyTorch is installed, that this step's losses are MXNet's on the same batch.

    python3 tools/torch_train.py BUNDLE.npz --photos img/photos ... --runs starry_night:1 \
        --seconds 400 --out OUT
"""
import argparse
import json
import math
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn
from torch.nn import functional as F


def conv_block(cin, cout, k, stride=1, norm=True, relu=True):
    """Reflection padding, a convolution, instance norm, ReLU: chapter 6's conv_block."""
    layers = [nn.ReflectionPad2d(k // 2), nn.Conv2d(cin, cout, k, stride)]
    if norm:
        layers.append(nn.InstanceNorm2d(cout, affine=True, eps=1e-5))
    if relu:
        layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class ResidualBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.body = nn.Sequential(conv_block(c, c, 3), conv_block(c, c, 3, relu=False))

    def forward(self, x):
        return x + self.body(x)


class Upsample(nn.Module):
    def forward(self, x):
        return F.interpolate(x, scale_factor=2, mode='nearest')


def transform_net(w):
    """Chapter 6's TransformNet, its parameters in the order of MXNet's collect_params."""
    return nn.Sequential(
        conv_block(3, w, 9), conv_block(w, 2 * w, 3, 2), conv_block(2 * w, 4 * w, 3, 2),
        *[ResidualBlock(4 * w) for _ in range(5)],
        Upsample(), conv_block(4 * w, 2 * w, 3), Upsample(), conv_block(2 * w, w, 3),
        conv_block(w, 3, 9, norm=False, relu=False))


def vgg_from_bundle(bundle, last):
    """VGG-19's features 0..last as in MXNet: conv (pad 1), ReLU, 2x2 max-pool."""
    layers, cin = [], 3
    for i in range(last + 1):
        if f'b{i}' in bundle:
            kernel = (bundle[f'k{i}_table'][bundle[f'k{i}_index']] if f'k{i}_index' in bundle
                      else bundle[f'k{i}'])
            conv = nn.Conv2d(cin, kernel.shape[0], 3, padding=1)
            conv.weight.data = torch.from_numpy(np.ascontiguousarray(kernel, dtype=np.float32))
            conv.bias.data = torch.from_numpy(bundle[f'b{i}'].astype(np.float32))
            layers.append(conv)
            cin = kernel.shape[0]
        elif layers and isinstance(layers[-1], nn.Conv2d):
            layers.append(nn.ReLU())
        else:
            layers.append(nn.MaxPool2d(2, 2))
    net = nn.Sequential(*layers)
    for p in net.parameters():
        p.requires_grad_(False)
    return net


class Loss:
    """PerceptualLoss of chapter 6 for R networks whose outputs share one photo batch."""

    def __init__(self, bundle, config, runs, device, amp):
        self.config, self.amp = config, amp
        self.cl, self.sl = config['content_layers'], config['style_layers']
        self.vgg = vgg_from_bundle(bundle, max(self.cl + self.sl)).to(device)
        self.grams = {p: [torch.from_numpy(bundle[f'gram_{p}_{j}']).to(device)
                          for j in range(len(self.sl))] for p, _ in runs}
        self.runs = runs

    def features(self, Y):
        contents, styles = [], []
        with torch.autocast(Y.device.type, dtype=torch.bfloat16, enabled=self.amp):
            for i in range(max(self.cl + self.sl) + 1):
                Y = self.vgg[i](Y)
                if i in self.sl:
                    styles.append(Y.float())
                if i in self.cl:
                    contents.append(Y.float())
        return contents, styles

    def __call__(self, Y_hats, X):
        """[(content, style, tv, total)] per run, each a batch mean as in MXNet."""
        B, c = X.shape[0], self.config
        contents, styles = self.features(torch.cat(list(Y_hats) + [X]))
        out = []
        for r, ((painting, cw), Y_hat) in enumerate(zip(self.runs, Y_hats)):
            part = slice(r * B, (r + 1) * B)
            content = sum(F.mse_loss(Y[part], Y[-B:].detach()) for Y in contents) * cw
            style = sum(w * ((self.gram(Y[part], n) - G) ** 2).mean() for Y, G, n, w in
                        zip(styles, self.grams[painting], c['sizes'], c['style_weights']))
            tv = 0.5 * ((Y_hat[:, :, 1:] - Y_hat[:, :, :-1]).abs().mean() +
                        (Y_hat[:, :, :, 1:] - Y_hat[:, :, :, :-1]).abs().mean()) * c['tv_weight']
            out.append((content, style, tv, content + style + tv))
        return out

    @staticmethod
    def gram(Y, n):
        Y = Y.flatten(2)
        return Y @ Y.transpose(1, 2) / n


def read_photos(folders, mean, std, device):
    """Every photo of the folders as a normalised 3xHxW tensor on device."""
    paths = sorted(p for f in folders for p in Path(f).iterdir()
                   if p.suffix.lower() in ('.jpg', '.jpeg', '.png'))
    mean, std = torch.tensor(mean).view(3, 1, 1), torch.tensor(std).view(3, 1, 1)
    photos = [(torch.from_numpy(np.asarray(Image.open(p).convert('RGB'), dtype=np.float32)
                                / 255).permute(2, 0, 1) - mean) / std for p in paths]
    return paths, [x.to(device) for x in photos]


def random_crop(x, crop, scale=(0.1, 1.0), ratio=(3 / 4, 4 / 3)):
    """Gluon's RandomResizedCrop (a tenth to all of the photo) and a random left-right flip."""
    _, H, W = x.shape
    for _ in range(10):
        area = H * W * random.uniform(*scale)
        r = math.exp(random.uniform(math.log(ratio[0]), math.log(ratio[1])))
        w, h = round(math.sqrt(area * r)), round(math.sqrt(area / r))
        if w <= W and h <= H:
            break
    else:
        w, h = min(W, H), min(W, H)
    i, j = random.randint(0, H - h), random.randint(0, W - w)
    y = F.interpolate(x[None, :, i:i + h, j:j + w], size=(crop, crop), mode='bilinear',
                      align_corners=False, antialias=True)[0]
    return y.flip(-1) if random.random() < 0.5 else y


def save(out, args, runs, nets, paths, history, seconds, step, per_file=5):
    """Weights as npz files of per_file runs each (keys RUN/INDEX, in parameter order) and
    record.json: the command, data, steps, time, device and losses."""
    out.mkdir(parents=True, exist_ok=True)
    for k in range(0, len(runs), per_file):
        np.savez(out / f'weights_{k // per_file}.npz', **{
            f'{run}/{i:03d}': p.detach().cpu().numpy()
            for run, net in zip(args.runs[k:k + per_file], nets[k:k + per_file])
            for i, p in enumerate(net.parameters())})
    record = {'command': 'python3 ' + ' '.join(sys.argv), 'runs': args.runs,
              'settings': {k: str(v) for k, v in vars(args).items()},
              'photos': [p.name for p in paths], 'steps': step, 'seconds': seconds,
              'device': (torch.cuda.get_device_name() if args.device == 'cuda'
                         else args.device),
              'torch': torch.__version__, 'history': history}
    (out / 'record.json').write_text(json.dumps(record))


def train(args):
    bundle = dict(np.load(args.bundle))
    config = json.loads(bytes(bundle.pop('config')).decode())
    specs = [r.split('@') for r in args.runs]  # PAINTING:WEIGHT[@RUN of the --init files]
    runs = [(s[0].split(':')[0], float(s[0].split(':')[1]) * config['content_weight'])
            for s in specs]
    device = torch.device(args.device)
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
    torch.backends.cudnn.benchmark = True
    random.seed(args.seed)
    torch.manual_seed(args.seed)
    paths, photos = read_photos(args.photos, config['rgb_mean'], config['rgb_std'], device)
    loss = Loss(bundle, config, runs, device, args.amp)
    nets = [transform_net(args.width).to(device) for _ in runs]
    start_weights = {k: v for f in args.init for k, v in np.load(f).items()}
    for spec, net in zip(specs, nets):
        if len(spec) > 1:  # continue from a run of an earlier session (Adam starts afresh)
            for i, p in enumerate(net.parameters()):
                p.data.copy_(torch.from_numpy(start_weights[f'{spec[1]}/{i:03d}']))
    trainer = torch.optim.Adam([p for net in nets for p in net.parameters()], lr=args.lr)
    history, start, step, saved = [], time.perf_counter(), 0, 0
    while time.perf_counter() - start < args.seconds and step < args.steps:
        X = torch.stack([random_crop(random.choice(photos), config['crop'])
                         for _ in range(args.batch_size)])
        losses = loss([net(X) for net in nets], X)
        trainer.zero_grad(set_to_none=True)
        sum(l[3] for l in losses).backward()
        trainer.step()
        step += 1
        if step % args.log_every == 0:
            values = [[float(v) for v in l] for l in losses]
            history.append([step, time.perf_counter() - start, values])
            print(f'step {step} {time.perf_counter() - start:.0f}s', ' '.join(
                f'{r}={v[1]:.0f}/{v[0]:.0f}' for r, v in zip(args.runs, values)), flush=True)
        if time.perf_counter() - start > saved + args.save_seconds:
            saved = time.perf_counter() - start
            save(args.out, args, runs, nets, paths, history, saved, step)
    save(args.out, args, runs, nets, paths, history, time.perf_counter() - start, step)
    print(f'{step} steps in {time.perf_counter() - start:.0f} s; wrote {args.out}')


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('bundle', type=Path)
    parser.add_argument('--photos', type=Path, nargs='+', required=True)
    parser.add_argument('--runs', nargs='+', required=True,
                        help="PAINTING:CONTENT_WEIGHT, the weight relative to the preset's")
    parser.add_argument('--out', type=Path, required=True)
    parser.add_argument('--init', type=Path, nargs='*', default=[],
                        help='weights files of earlier runs, for runs given as SPEC@RUN')
    parser.add_argument('--seconds', type=float, default=300)
    parser.add_argument('--save-seconds', type=float, default=120)
    parser.add_argument('--steps', type=int, default=10 ** 9)
    parser.add_argument('--batch-size', type=int, default=8)
    parser.add_argument('--width', type=int, default=16)
    parser.add_argument('--lr', type=float, default=1e-3)
    parser.add_argument('--amp', action='store_true', help='VGG in bfloat16 (losses in float32)')
    parser.add_argument('--device', default='cuda')
    parser.add_argument('--log-every', type=int, default=20)
    parser.add_argument('--seed', type=int, default=0)
    train(parser.parse_args(argv))


if __name__ == '__main__':
    main()
