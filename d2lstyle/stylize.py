"""The ``d2lstyle stylize`` command: a preset of chapter 4, optimised as in chapter 3 over
progressive stages, with a progress bar, a record of the losses, divergence detection, a clean
stop on Ctrl-C, SIGTERM or SIGHUP (``signals``), and results kept in the temporary folder where
the output's folder fails at the end (``atomic.Keeper``). It runs the chapters' code of either
framework, ``self.d2l``, through the few names ``frameworks`` gives each. ``cli`` has checked the
options, and that the output's folder takes files, before this module loads."""
import dataclasses
import math
import sys
import time

import numpy as np

from . import D2lStyleError, masks, memory, plan, presets, runtime, signals
from .atomic import write_json
from .common.control import keep_photograph, layer_masks, match_colors, original_colors, soften
from .common.optimizers import tile_grid
from .images import check_shape, read_image, save_image, stage_shape

# A step whose loss is this many times the first one has left the basin: stop there.
EXPLODED = 1e3
# A region given none keeps the photograph, blended over this share of the long side.
KEEP_EDGE = 0.005


def grid(shape, overlap=None, megapixels=None):
    """Chapter 3's tiles of at most ``megapixels`` (default: memory.TILE_MEGAPIXELS, the CPU's)
    for a stage of shape (width, height): one tile if it fits."""
    return tile_grid(shape, megapixels or memory.TILE_MEGAPIXELS,
                     memory.OVERLAP if overlap is None else overlap)


def tiled(content_size, side, megapixels=None):
    """Whether a stage of long side ``side`` of this photograph is optimised in tiles."""
    return len(grid(stage_shape(content_size, side), megapixels=megapixels)) > 1


class Diverged(Exception):
    pass


class FirstStepFailed(Exception):
    """Adam's first step of a stage raised the loss (plan.Stage.fallback)."""


def stylize(args):
    """Run the command whose options ``cli`` checked; return its exit code."""
    runtime.allocate_large_blocks_apart()
    with signals.stop_at_once():  # loading: nothing to keep yet
        run = Run(args, presets.from_options(args), runtime.framework(args.framework))
    return run.run()


def show(bar, losses):
    bar.set_postfix(content=f'{losses[0]:.3g}', style=f'{losses[1]:.3g}', tv=f'{losses[2]:.3g}')
    bar.update()


class Run:
    def __init__(self, args, preset, framework):
        self.args, self.preset = args, preset
        self.framework, self.d2l = framework, framework.d2l
        self.content = read_image(args.content)
        # with --mask, a painting per region: none's is the photograph (its own texture)
        self.regions = masks.read_regions(args, self.content.size) if args.mask else None
        self.styles = [self.content if str(p) == masks.NONE else read_image(p)
                       for p in args.styles]
        if args.color_transfer == 'histogram':
            self.styles = [match_colors(style, self.content) for style in self.styles]
        init = presets.init_image(args.init)
        self.init_img = read_image(init) if init else None
        self.device = framework.device(args.device)
        self.bounds = self.d2l.pixel_bounds(self.device)
        # on a GPU, tiles only where its memory asks for them (memory.tile_megapixels)
        self.tile_megapixels = memory.tile_megapixels(framework.gpu_free_gb(self.device))
        self.stages = self.plan_stages()
        self.shapes = self.stage_shapes()
        self.check_memory()
        backbone = args.backbone or preset.backbones[0]
        self.content_layers, self.style_layers = self.d2l.preset_layers(preset, backbone)
        self.net = self.d2l.truncated_net(framework.load_vgg(backbone, self.device),
                                          self.content_layers, self.style_layers, preset.pooling)
        self.record = runtime.record('stylize', vars(args), framework, self.device,
                                     resolved=dataclasses.asdict(preset),
                                     stages=[dataclasses.asdict(s) for s in self.stages],
                                     tile_megapixels=self.tile_megapixels,
                                     losses=[], fallbacks=[], status='running',
                                     elapsed_seconds=0.0)
        self.record_path = args.output.with_suffix('.json')
        self.good, self.iteration, self.snapshot_failed = None, 0, False

    def plan_stages(self):
        """The stages the options give, or, for a final size alone, those ``plan`` makes;
        --optimizer, where given, replaces every stage's (one for all, or one per stage)."""
        args = self.args
        if args.planned:
            stages = plan.plan(args.size[0], self.tiled, self.lbfgs_fits)
        else:
            counts = args.iterations * (len(args.size) if len(args.iterations) == 1 else 1)
            stages = [plan.Stage(size, n, self.preset.optimizer)
                      for size, n in zip(args.size, counts)]
        if args.optimizer:
            asked = args.optimizer * (len(stages) if len(args.optimizer) == 1 else 1)
            stages = [dataclasses.replace(s, optimizer=o) for s, o in zip(stages, asked)]
        self.asked = [s.optimizer for s in stages]
        # L-BFGS's line search needs the gradient of one function; tiles blend theirs for Adam
        return [dataclasses.replace(s, optimizer='adam')
                if self.tiled(s.size) and s.fallback is None else s for s in stages]

    def tiled(self, side):
        return tiled(self.content.size, side, self.tile_megapixels)

    def grid(self, shape, overlap=None):
        return grid(shape, overlap, self.tile_megapixels)

    def lbfgs_fits(self, side):
        return math.prod(stage_shape(self.content.size, side)) <= memory.FALLBACK_MEGAPIXELS * 1e6

    def show_plan(self):
        names = {'adam': 'Adam', 'lbfgs': 'L-BFGS'}
        print(f'd2lstyle: {len(self.stages)} stage{"s" * (len(self.stages) > 1)}'
              f'{" (planned for --size %d)" % self.args.size[0] if self.args.planned else ""}:')
        for k, (stage, (w, h)) in enumerate(zip(self.stages, self.shapes), 1):
            n = len(self.grid((w, h)))
            note = (' (tiles take Adam\'s steps)' if n > 1 and self.asked[k - 1] == 'lbfgs'
                    and not self.args.planned else '')
            if stage.fallback:
                note = (f' ({names[stage.fallback]} from the stage\'s start instead if Adam\'s '
                        'first step raises the loss)')
            print(f'  {k}. {w}x{h}{f" in {n} tiles" if n > 1 else ""}: '
                  f'{stage.iterations} iterations of {names[stage.optimizer]}{note}')
        sys.stdout.flush()

    def run(self):
        self.framework.seed(self.args.seed)
        self.show_plan()
        self.start, status, code = time.time(), 'done', 0
        try:
            with signals.stop_at_once():
                for k, (stage, shape) in enumerate(zip(self.stages, self.shapes), 1):
                    self.stage(k, shape, stage)
        except Diverged as err:
            status, code = f'diverged: {err}', 1
        except KeyboardInterrupt as stop:  # Ctrl-C, SIGTERM or SIGHUP
            number = signals.signum(stop)
            status, code = signals.status(number), signals.exit_code(number)
        return self.finish(status, time.time() - self.start) or code  # held by cli.main

    def stage_shapes(self):
        """Each stage's (width, height), checked with the style's, before any work."""
        shapes = []
        for stage in self.stages:
            size = stage.size
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

    def check_memory(self):
        """Refuse a plan whose largest pass (a stage's or the style image's tile) cannot fit,
        before any work."""
        (w, h), size = max(zip(self.shapes, [s.size for s in self.stages]),
                           key=lambda s: math.prod(s[0]))
        style = self.style_shape((w, h))
        pixels = max(math.prod(self.grid((w, h)).tile), math.prod(self.grid(style).tile))
        gpu_gb = self.framework.gpu_free_gb(self.device)
        if math.prod(style) > w * h:
            what = (f'--style-scale {self.args.style_scale:g} (a {style[0]}x{style[1]} style '
                    f'image for the {w}x{h} stage of --size {size})')
            advice = 'use a smaller --style-scale'
        else:
            fits = memory.largest_side('stylize', min(w, h) / max(w, h), gpu_gb)
            what = f'--size {size} (a {w}x{h} image)'
            advice = (f'use a smaller --size (at most about {fits} fits now)' if fits
                      else 'free some memory first')
        memory.check_elements(max(memory.VGG_CHANNELS * pixels, 3 * w * h), what, advice,
                              self.framework.MAX_ELEMENTS)
        fallback = [math.prod(shape) for shape, s in zip(self.shapes, self.stages) if s.fallback]
        regions = len(self.styles) if self.regions else 0
        memory.check_fits('stylize', pixels / 1e6, what, advice, gpu_gb, w * h / 1e6,
                          (memory.lbfgs_gb(max(fallback)) if fallback else 0.0)
                          + regions * memory.REGION_GB_PER_MEGAPIXEL * pixels / 1e6)

    def style_shape(self, shape):
        return stage_shape(shape, max(shape), self.args.style_scale)

    def features(self, X):
        return self.d2l.extract_features(self.net, X, self.content_layers, self.style_layers)

    def stage(self, k, shape, stage):
        runtime.release_memory(self.framework)  # what the last stage freed, before this one
        content_X = self.to_device(self.d2l.preprocess(self.content, shape))
        X = self.initial(content_X, shape)
        g = self.grid(shape)
        desc = f'stage {k}/{len(self.stages)} {shape[0]}x{shape[1]}' + (
            f' in {len(g)} tiles' if len(g) > 1 else '')
        with runtime.progress(total=stage.iterations, desc=desc, unit='it') as bar:
            self.optimise(k, stage, self.stage_objective(content_X, g), X, bar)
        self.framework.stage_done(self.net)

    def to_device(self, X):
        return self.framework.to(X, self.device)

    def optimise(self, k, stage, make, X, bar):
        """Stage k from X: L-BFGS, or Adam with the stage's fallback (plan.Stage)."""
        d2l = self.d2l
        if stage.optimizer == 'lbfgs':
            d2l.lbfgs(self.objective(make(blend=False), k, bar), X, stage.iterations)
            return
        adam = self.framework.adam(self.preset, self.args.lr_decay_steps)
        bounds = self.bounds if self.preset.clip else None
        f = self.objective(make(blend=True), k, bar)
        try:
            d2l.gradient_descent(self.first_step_checked(f, stage), X, adam, stage.iterations,
                                 bounds=bounds)
            return
        except FirstStepFailed:
            pass  # and with the exception, Adam's state goes before L-BFGS allocates its own
        bar.write(f"stage {k}: Adam's first step raised the loss; {stage.fallback} goes on "
                  "from the stage's start")
        self.record['fallbacks'].append(k)
        d2l.lbfgs(self.objective(make(blend=False), k, bar), self.good,
                  max(1, stage.iterations - 2),
                  memory.lbfgs_history(self.framework.numel(X) // 3))

    def stage_objective(self, content_X, g):
        """A maker of the stage's objective, ``make(blend)``: chapter 3's Objective for a stage
        in one piece; for one in tiles a TiledObjective, whose gradient is blended for Adam
        (blend=True) or the true one for L-BFGS."""
        d2l, grams = self.d2l, self.style_grams(g.shape)
        regions = (layer_masks(self.regions.masks, content_X.shape[2:])
                   if self.regions else None)
        if len(g) == 1:
            objective = d2l.Objective(self.loss_block(content_X),
                                      self.targets(content_X, grams, regions))
            return lambda blend: objective
        crops = [d2l.crop(content_X, region) for region in g.regions()]
        targets = [self.targets(c, grams, None if regions is None else regions[:, y0:y1, x0:x1])
                   for c, (x0, y0, x1, y1) in zip(crops, g.regions())]
        loss = self.loss_block(crops[0])
        return lambda blend: d2l.TiledObjective(loss, g, targets, self.device, blend)

    def targets(self, content_X, grams, regions):
        """The loss's targets for an image (or a tile) like content_X: its content features
        and the Gram targets, with --mask each region's mask (R, h, w) at its size."""
        contents_Y, styles_Y = self.features(content_X)
        if regions is None:
            return self.d2l.loss_targets(contents_Y, grams)
        return self.d2l.guided_targets(contents_Y, grams,
                                       self.d2l.mask_arrays(regions, styles_Y, self.device))

    @staticmethod
    def first_step_checked(f, stage):
        """f, raising FirstStepFailed where ``stage`` has a fallback and the value after
        Adam's first step is above the value at the start."""
        values = []

        def checked(X):
            value, grad = f(X)
            values.append(value)
            if stage.fallback and len(values) == 2 and values[1] > values[0]:
                raise FirstStepFailed
            return value, grad
        return checked

    def objective(self, objective, stage, bar):
        """Logs every evaluation of ``objective`` and keeps the best image."""
        best = [math.inf]

        def f(X):
            value, grad = objective(X)
            losses = objective.history[-1][1:]
            self.check_divergence(value, grad)
            if value < best[0]:  # a step or a line-search trial can make things worse
                best[0], self.good = value, self.framework.copy(X)
            self.iteration += 1
            self.log(stage, losses)
            show(bar, losses)
            return value, grad
        return f

    def loss_block(self, content_X):
        """Chapter 2's (hybridized) StyleLoss of the picture (chapter 3's PictureLoss), for
        images of content_X's size."""
        _, styles_of_this_size = self.features(content_X)
        channels = [Y.shape[1] for Y in styles_of_this_size]
        weights = self.d2l.loss_weights(self.preset, channels)
        if self.regions:
            loss = self.d2l.GuidedStyleLoss(self.net, self.content_layers, self.style_layers,
                                            styles_of_this_size, *weights,
                                            num_regions=len(self.styles))
        else:
            loss = self.d2l.StyleLoss(self.net, self.content_layers, self.style_layers,
                                      styles_of_this_size, *weights)
        return self.framework.compiled(self.d2l.PictureLoss(loss, self.bounds))

    def style_grams(self, shape):
        """The style targets: Gram matrices of each painting, blended by their weights; with
        --mask, each layer's list of each region's guided Gram matrices (chapter 5)."""
        shape = self.style_shape(shape)
        if self.regions:
            return [list(layer) for layer in zip(*[self.region_grams(r, shape)
                                                   for r in range(len(self.styles))])]
        blend = self.args.style_blend_weights or [1.0] * len(self.styles)
        grams = None
        for img, w in zip(self.styles, blend):
            style_X = self.to_device(self.d2l.preprocess(img, shape))
            part = [G * (w / sum(blend)) for G in
                    self.d2l.tiled_grams(self.features, style_X, self.grid(shape, overlap=0))]
            grams = part if grams is None else [a + b for a, b in zip(grams, part)]
        return grams

    def region_grams(self, r, shape):
        """Region r's targets: its painting's Gram matrices inside the painting's own mask, or
        for none the photograph's inside the region, at the style's shape."""
        w, h = shape
        mask = (self.regions.masks[r] if self.regions.styles[r] is None
                else self.regions.style_masks[r])
        mask = None if mask is None else layer_masks(mask[None], (h, w))[0]
        X = self.to_device(self.d2l.preprocess(self.styles[r], shape))
        return self.d2l.masked_grams(self.features, X, mask, self.grid(shape, overlap=0))

    def initial(self, content_X, shape):
        if self.good is not None:
            return self.d2l.upscale(self.framework.picture(self.good, self.bounds), shape)
        if self.init_img is not None:
            return self.to_device(self.d2l.preprocess(self.init_img, shape))
        return self.d2l.start_image(content_X, self.preset)

    def check_divergence(self, total, grad):
        """Diverged: the loss is not finite, or far above the run's first, or above it with a
        gradient of zero, where every value of the image has left the picture's range (its
        clip holds) and no step can bring it back."""
        history = self.record['losses']
        first = history[0]['total'] if history else None
        if not math.isfinite(total) or (first and total > EXPLODED * first):
            why = ''
        elif first and total > first and self.framework.is_zero(grad):
            why = ', and every value of the image left 0..255, where its gradient is zero'
        else:
            return
        raise Diverged(f'the loss became {total:.3g} at iteration {self.iteration + 1}'
                       f'{"" if first is None else f" (it started at {first:.3g})"}{why}; '
                       'lower --lr')

    def log(self, stage, losses):
        self.record['losses'].append(dict(zip(('content', 'style', 'tv', 'total'), losses),
                                          stage=stage, iteration=self.iteration,
                                          seconds=round(time.time() - self.start, 3)))
        every = self.args.save_every
        if every and self.iteration % every == 0 and not self.snapshot_failed:
            self.snapshot()

    def snapshot(self):
        """OUT_<iteration>; where one cannot be written, the run goes on without them."""
        out = self.args.output
        path = out.with_name(f'{out.stem}_{self.iteration}{out.suffix}')
        try:
            save_image(self.image(), path)
        except OSError as err:
            print(f'd2lstyle: could not write the snapshot {path} ({err.strerror or err}); '
                  'going on without snapshots', file=sys.stderr)
            self.snapshot_failed = True

    def image(self):
        img = self.d2l.postprocess(self.good)
        if self.args.color_transfer == 'luminance':
            img = original_colors(img, self.content)
        return self.kept(img) if self.regions else img

    def kept(self, img):
        """The photograph put back in the regions given none (chapter 5), blended across an
        edge of about KEEP_EDGE of the picture's long side."""
        kept = [r for r, style in enumerate(self.regions.styles) if style is None]
        if not kept:
            return img
        w, h = img.size
        keep = layer_masks(self.regions.masks[kept], (h, w)).sum(axis=0)
        edge = soften(np.stack([keep, 1 - keep]), KEEP_EDGE * max(w, h))[0]
        return keep_photograph(img, self.content, edge)

    def finish(self, status, elapsed):
        """Write the image and the record, where asked or else in the temporary folder
        (runtime.keep_results); EXIT_KEPT where a write failed, else None."""
        self.record.update(status=status, elapsed_seconds=round(elapsed, 3))
        writes = [(lambda path: write_json(path, self.record), self.record_path)]
        if self.good is not None:
            writes.insert(0, (self.save_output, self.args.output))
        paths, failed = runtime.keep_results(writes)
        if status != 'done' and paths:
            kept = f'; kept the last good image in {paths[0]}' if self.good is not None else ''
            print(f'd2lstyle: stopped, {status}{kept}', file=sys.stderr)
        return failed

    def save_output(self, path):
        save_image(self.image(), path)
        self.record['output'] = str(path)  # the record, written next, names where it went
