"""One run of ``d2lstyle stylize``: chapter 1's method with a progress bar, a record of the
losses, divergence detection and a clean stop on Ctrl-C."""
import math
import sys
import time

import mxnet as mx
from mxnet import autograd, nd
from PIL import Image
from tqdm import tqdm

from . import D2lStyleError, presets, weights
from . import mxnet as d2l
from .cli import Diverged, is_path, record_header, stage_shape, write_record
from .images import check_shape, read_image, save_image

# A step whose loss is this many times the first one has left the basin: stop there.
EXPLODED = 1e3


def device(name):
    if name == 'gpu' and mx.context.num_gpus() == 0:
        raise D2lStyleError('--device gpu: MXNet sees no GPU (the CPU build of MXNet never '
                            'does); use --device cpu')
    return d2l.try_gpu() if name == 'gpu' else mx.cpu()


def truncated_net(backbone, preset, ctx):
    """The backbone up to the deepest layer the preset uses, and the layers' indices."""
    names = weights.conv_layers(backbone)
    content = [names[n] for n in preset.content_layers[backbone]]
    style = [names[n] for n in preset.style_layers]
    vgg = weights.load_vgg(backbone, ctx)
    net = mx.gluon.nn.HybridSequential()
    for i in range(max(content + style) + 1):
        net.add(vgg[i])
    net.collect_params().setattr('grad_req', 'null')
    return net, content, style


def original_colors(result, content):
    """The result's luminance with the content's colour (YCbCr chroma)."""
    y = result.convert('YCbCr').getchannel('Y')
    _, cb, cr = content.resize(result.size, Image.BICUBIC).convert('YCbCr').split()
    return Image.merge('YCbCr', (y, cb, cr)).convert('RGB')


class Run:
    def __init__(self, args, config):
        self.args, self.config = args, config
        self.content = read_image(args.content)
        self.styles = [read_image(p) for p in args.styles]
        self.init_img = read_image(args.init) if is_path(args.init) else None
        self.shapes = self.stage_shapes()
        self.ctx = device(args.device)
        self.net, self.content_layers, self.style_layers = truncated_net(
            args.backbone, presets.get(args.preset), self.ctx)
        self.record = record_header(args, config)
        self.record_path = args.output.with_suffix('.json')
        self.good, self.iteration = None, 0

    def run(self):
        mx.random.seed(self.args.seed)
        self.start, status, code = time.time(), 'done', 0
        iterations = self.args.iterations * (len(self.args.size) if len(self.args.iterations) == 1 else 1)
        try:
            for stage, (shape, n) in enumerate(zip(self.shapes, iterations), 1):
                self.stage(stage, shape, n)
        except Diverged as err:
            status, code = f'diverged: {err}', 1
        except KeyboardInterrupt:
            status, code = 'interrupted', 130
        self.finish(status, time.time() - self.start)
        return code

    def stage_shapes(self):
        """Each stage's (width, height), checked with the style's, before any work."""
        shapes = []
        for size in self.args.size:
            shape = stage_shape(self.content.size, size)
            for what, s in (('output', shape), ('style image', self.style_shape(shape))):
                try:
                    check_shape(s)
                except D2lStyleError as err:
                    raise D2lStyleError(f'--size {size} (with --style-scale '
                                        f'{self.args.style_scale}) makes the {what} '
                                        f'{s[0]}x{s[1]}: {err}') from None
            shapes.append(shape)
        return shapes

    def style_shape(self, shape):
        return stage_shape(shape, max(shape), self.args.style_scale)

    def features(self, X):
        return d2l.extract_features(self.net, X, self.content_layers, self.style_layers)

    def stage(self, stage, shape, iterations):
        content_X, contents_Y = d2l.get_contents(self.features, self.content, shape, self.ctx)
        targets = d2l.loss_targets(contents_Y, self.style_grams(shape))
        loss = self.loss_block(content_X)
        X = self.initial(content_X, shape)
        gen_img, _, trainer = d2l.get_inits(X, self.config['lr'], self.args.lr_decay_epoch, [])
        desc = f'stage {stage}/{len(self.args.size)} {shape[0]}x{shape[1]}'
        with tqdm(total=iterations, desc=desc, unit='it') as bar:
            for _ in range(iterations):
                losses = self.step(gen_img, trainer, loss, targets, stage)
                bar.set_postfix(content=f'{losses[0]:.3g}', style=f'{losses[1]:.3g}',
                                tv=f'{losses[2]:.3g}')
                bar.update()
        self.good = gen_img().copy()

    def loss_block(self, content_X):
        """Chapter 2's hybridized StyleLoss for images of content_X's size."""
        _, styles_of_this_size = self.features(content_X)
        weights_ = {k: self.config[k] for k in ('content_weight', 'style_weight', 'tv_weight')}
        loss = d2l.StyleLoss(self.net, self.content_layers, self.style_layers,
                             styles_of_this_size, **weights_)
        loss.hybridize(static_alloc=True, static_shape=True)
        return loss

    def style_grams(self, shape):
        """The style targets: Gram matrices of each painting, blended by their weights."""
        shape = self.style_shape(shape)
        blend = self.args.style_blend_weights or [1.0] * len(self.styles)
        grams = None
        for img, w in zip(self.styles, blend):
            _, styles_Y = d2l.get_styles(self.features, img, shape, self.ctx)
            part = [d2l.gram(Y) * (w / sum(blend)) for Y in styles_Y]
            grams = part if grams is None else [a + b for a, b in zip(grams, part)]
        return grams

    def initial(self, content_X, shape):
        if self.good is not None:
            return d2l.upscale(self.good, shape)
        if self.args.init == 'noise':
            return nd.random.normal(shape=content_X.shape, ctx=self.ctx)
        if self.init_img is not None:
            return d2l.preprocess(self.init_img, shape).as_in_context(self.ctx)
        return content_X

    def step(self, gen_img, trainer, loss, targets, stage):
        with autograd.record():
            X = gen_img()
            parts = loss(X, *targets)
        losses = [float(v.asscalar()) for v in parts]  # content, style, TV, total
        self.check_divergence(losses[-1])
        self.good = X.copy()  # trainer.step updates X in place
        parts[-1].backward()
        trainer.step(1)
        self.iteration += 1
        self.log(stage, losses)
        return losses

    def check_divergence(self, total):
        history = self.record['losses']
        first = history[0]['total'] if history else None
        if not math.isfinite(total) or (first and total > EXPLODED * first):
            raise Diverged(f'the loss became {total:.3g} at iteration {self.iteration + 1}'
                           f'{"" if first is None else f" (it started at {first:.3g})"}; '
                           'lower --lr')

    def log(self, stage, losses):
        self.record['losses'].append(dict(zip(('content', 'style', 'tv', 'total'), losses),
                                          stage=stage, iteration=self.iteration,
                                          seconds=round(time.time() - self.start, 3)))
        every = self.args.save_every
        if every and self.iteration % every == 0:
            out = self.args.output
            save_image(self.image(), out.with_name(f'{out.stem}_{self.iteration}{out.suffix}'))

    def image(self):
        img = d2l.postprocess(self.good)
        return original_colors(img, self.content) if self.args.original_colors else img

    def finish(self, status, elapsed):
        self.record.update(status=status, elapsed_seconds=round(elapsed, 3))
        if self.good is not None:
            save_image(self.image(), self.args.output)
            self.record['output'] = str(self.args.output)
        write_record(self.record, self.record_path)
        if status != 'done':
            kept = f'; kept the last good image in {self.args.output}' if self.good is not None else ''
            print(f'd2lstyle: stopped, {status}{kept}', file=sys.stderr)
