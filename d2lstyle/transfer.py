"""The ``d2lstyle train`` and ``d2lstyle transform`` commands: chapter 6's feed-forward
transform network, from the command line, on either framework (``frameworks``). Training
checkpoints as it goes and resumes where it stopped; the trained network is exported in the one
format both frameworks read (MXNet's symbol + params, ``networks``) with a JSON record of how it
was made."""
import json
import random
import shlex
import sys
import threading
import time
from pathlib import Path

import numpy as np
from PIL import Image

from . import D2lStyleError, clips, memory, presets, runtime, signals
from .atomic import EXIT_KEPT, write_json
from .common import video
from .common.feed_forward import checkpoint_state
from .images import read_image, save_image
from .networks import MODELS, shipped
from .transform_tiles import ALIGN, tiles
from .weights import sha256

SAMPLE = 100  # photographs whose size the training plan is checked against
WIDTH_CALIBRATED = 16  # the --width at which memory.MODELS['train'] was measured


def model_prefix(model):
    """The export prefix of --model: a shipped model's name, PREFIX or PREFIX-symbol.json."""
    text = str(model)
    prefix = Path(text[:-len('-symbol.json')] if text.endswith('-symbol.json') else text)
    if not prefix.parent.name and (MODELS / f'{prefix}-symbol.json').exists():
        prefix = MODELS / prefix.name
    for suffix in ('-symbol.json', '-0000.params'):
        if not Path(f'{prefix}{suffix}').is_file():
            raise D2lStyleError(
                f'--model {model}: {prefix}{suffix} not found; give a shipped model '
                f'({", ".join(shipped()) or "none"}) or the prefix of files that '
                'd2lstyle train wrote (PREFIX-symbol.json and PREFIX-0000.params)')
    return prefix


def load(framework, model, device, tile_megapixels=None):
    """--model as a function from a PIL image to its result: in one pass, or in tiles of at
    most ``tile_megapixels`` with the same result (d2lstyle.transform_tiles)."""
    prefix = model_prefix(model)
    try:
        return framework.load_transform(prefix, device, tile_megapixels)
    except framework.MODEL_ERRORS as err:
        raise D2lStyleError(f'--model {model}: {prefix}-symbol.json or -0000.params is not a '
                            f'network that d2lstyle train exported ({str(err).splitlines()[0]}); '
                            'export it again') from None


def transform(args):
    """The transform command: a photograph, or each frame of a video, through a trained
    network; in tiles if a picture is larger than memory.TRANSFORM_TILE_MEGAPIXELS."""
    runtime.allocate_large_blocks_apart()
    with signals.stop_at_once():  # loading and painting: nothing to keep before the result
        framework = runtime.framework(args.framework)
        device = framework.device(args.device)
        if clips.is_video(args.input):
            fps, (w, h), count = clips.video_info(args.input)
        else:
            img = read_image(args.input)
            w, h = img.size
        grid = photo_tiles(w, h) if framework.TRANSFORM_TILES else None
        gpu_gb = framework.gpu_free_gb(device)
        fits = memory.largest_side('transform', min(w, h) / max(w, h), gpu_gb)
        memory.check_fits('transform', pass_megapixels(grid) if grid else w * h / 1e6,
                          f'{args.input} ({w}x{h})',
                          f'downscale it first (a long side of at most about {fits} fits now)'
                          if fits else 'free some memory first', gpu_gb,
                          image_megapixels=w * h / 1e6)
        stylize_photo = load(framework, args.model, device,
                             memory.TRANSFORM_TILE_MEGAPIXELS if grid else None)
        tiled = f' (in {len(grid)} tiles)' if grid else ''
        start = time.perf_counter()
        result = None if clips.is_video(args.input) else stylize_photo(img)
    if result is None:  # a video: its frames are kept as they come (transform_video)
        return transform_video(args, stylize_photo, fps, count, start, tiled)
    paths, failed = runtime.keep_results([(lambda path: save_image(result, path), args.output)])
    if paths and not failed:
        print(f'{args.output}: {w}x{h} in {time.perf_counter() - start:.2f} s{tiled}')
    return failed or 0


def transform_video(args, stylize_photo, fps, count, start, tiled):
    """Each frame of the video through the network, blended along the flow with the result
    before it (chapter 7); prints the warping error before and after blending."""
    errors = {'stylized': [], 'blended': []}

    def results():
        previous = None
        for frame in runtime.progress(clips.read_frames(args.input), total=count or None,
                                      unit='frame', desc=args.input.name):
            output = np.asarray(stylize_photo(Image.fromarray(frame)))
            result = output
            if previous is not None:
                flow, mask = video.motion(frame, previous[0])
                result = video.blend_step(previous[2], output, flow, mask, args.blend)
                errors['stylized'].append(video.frame_error(output, previous[1], flow, mask))
                errors['blended'].append(video.frame_error(result, previous[2], flow, mask))
            previous = frame, output, result
            yield result

    partial = args.output.with_name(f'{args.output.stem}.partial{args.output.suffix}')
    try:
        with signals.stop_at_once():
            written = clips.write_video(args.output, results(), fps, partial)
    except KeyboardInterrupt as stop:  # Ctrl-C, SIGTERM or SIGHUP
        number, done = signals.signum(stop), getattr(stop, 'kept_frames', 0)
        kept = f'; the {done} frames done are in {partial}' if done else ''
        print(f'd2lstyle: {signals.status(number)}; {args.output} was not written{kept}',
              file=sys.stderr)
        return signals.exit_code(number)
    except OSError as err:  # the video cannot be replayed from elsewhere: say what to do
        print(f'd2lstyle: error: could not write {args.output} ({err.strerror or err}); free '
              'some space there and run the command again', file=sys.stderr)
        return EXIT_KEPT
    seconds = time.perf_counter() - start
    print(f'{args.output}: {written} frames at {fps:g} fps in {seconds:.1f} s '
          f'({seconds / written:.2f} s per frame){tiled}')
    if errors['stylized']:
        print(f'flicker (warping error, grey levels): {np.mean(errors["stylized"]):.2f} stylized '
              f'frame by frame, {np.mean(errors["blended"]):.2f} blended with --blend {args.blend:g}')
    return 0


def photo_tiles(width, height):
    """The tiles a photograph passes through a transform network in; None if it passes whole."""
    if width * height <= memory.TRANSFORM_TILE_MEGAPIXELS * 1e6:
        return None
    return tiles(width + -width % ALIGN, height + -height % ALIGN, memory.TRANSFORM_TILE_MEGAPIXELS)


def pass_megapixels(grid):
    """Megapixels of the largest tile of ``grid``, margins included."""
    return max((x1 - x0) * (y1 - y0) for x0, y0, x1, y1 in (tile.box for tile in grid)) / 1e6


def check_training_plan(args, style_size, framework, device):
    """Refuse a crop that no photograph can give, or a painting (at --style-size) or a step
    that cannot fit, before anything is written. The photographs' sizes come from the headers
    of the first ``SAMPLE`` of them."""
    sizes = []
    for path in framework.d2l.PhotoFolder(args.data).paths[:SAMPLE]:
        try:
            with Image.open(path) as img:
                sizes.append(min(img.size))
        except (OSError, SyntaxError, ValueError):
            continue  # the loader reports a bad photo when it meets it
    if sizes and args.crop > max(sizes):
        raise D2lStyleError(f'--crop {args.crop}: larger than every photograph in {args.data} '
                            f'(the largest short side is {max(sizes)} pixels); use a --crop of '
                            f'at most {max(sizes) // 4 * 4}')
    w, h = style_size
    painting = args.style_size * round(args.style_size * h / w)
    what = f'--style-size {args.style_size} (the painting {args.style_size} pixels wide)'
    limit, gpu_gb = framework.MAX_ELEMENTS, framework.gpu_free_gb(device)
    memory.check_elements(memory.VGG_CHANNELS * painting, what, 'use a smaller --style-size',
                          limit)
    memory.check_fits('stylize', painting / 1e6, what, 'use a smaller --style-size', gpu_gb)
    per_device = args.batch_size // args.devices
    what = f'--crop {args.crop} with --batch-size {args.batch_size}'
    advice = 'use a smaller --crop or --batch-size'
    # VGG sees each generated image and its photograph: two images per crop
    memory.check_elements(2 * per_device * memory.VGG_CHANNELS * args.crop ** 2, what, advice,
                          limit)
    megapixels = per_device * args.crop ** 2 / 1e6 * max(1, args.width / WIDTH_CALIBRATED)
    memory.check_fits('train', megapixels, f'{what} and --width {args.width}',
                      advice + ' or --width', gpu_gb)


def train(args, argv):
    """The train command: a transform network for one painting, checkpointed as it goes."""
    with signals.stop_at_once():  # loading: nothing to keep yet
        framework = runtime.framework(args.framework)
        net, loss, styles_Y_gram, loader, devices, folder = prepare_training(args, framework)
    stop = threading.Event()  # set by Ctrl-C, SIGTERM or SIGHUP: save after this step, end
    try:
        with signals.stop_after_step(stop):
            history = framework.d2l.train_transform_net(
                net, loss, styles_Y_gram, loader, args.iterations, args.lr,
                framework.training_devices(devices), folder, args.save_every, stop)
    except KeyboardInterrupt as again:  # a second signal: the last checkpoint stands
        print(f'd2lstyle: {signals.status(signals.signum(again))} at once; run the same command '
              f'again to resume from the last checkpoint in {folder}', file=sys.stderr)
        return signals.exit_code(signals.signum(again))
    if stop.is_set():  # cli.main holds the signals while the results are saved
        return stopped(args, argv, history, folder, stop.signum, framework, devices[0])
    return export(args, argv, net, history, framework, devices[0])


def prepare_training(args, framework):
    """The network, its loss and the painting's Grams, the loader, the devices and the
    checkpoints' folder of a checked ``train`` command."""
    d2l, devices = framework.d2l, framework.devices(args.device, args.devices)
    style_img = read_image(args.style)
    loader = d2l.photo_loader(args.data, args.crop, args.batch_size)
    check_training_plan(args, style_img.size, framework, devices[0])
    folder = Path(f'{args.output}.checkpoint')
    check_resume(folder, args)  # after the inputs are known to be good: it may write
    random.seed(args.seed)  # the crops
    np.random.seed(args.seed)  # the shuffling
    framework.seed(args.seed)  # the initial weights
    loss, styles_Y_gram = d2l.perceptual_loss(
        framework.load_vgg('vgg19', devices[0]), presets.from_options(args), style_img,
        args.style_size, args.crop, devices[0])
    loss = framework.training_loss(loss, devices)
    net = framework.transform_net(args.width, args.norm, devices)
    return net, loss, styles_Y_gram, loader, devices, folder


def stopped(args, argv, history, folder, number, framework, device):
    """A run told to stop, which saved a checkpoint after its last step if it could; the
    record and one line say where the same command resumes."""
    state = checkpoint_state(folder) or {'step': 0}
    facts = record(args, argv, history, [], framework, device, signals.status(number),
                   checkpoint=str(folder), resumes_at=state['step'])
    _, failed = runtime.keep_results([(lambda path: write_json(path, facts),
                                       Path(f'{args.output}.json'))])
    print(f'd2lstyle: {signals.status(number)}; run the same command again to resume from step '
          f'{state["step"]} ({folder})', file=sys.stderr)
    return failed or signals.exit_code(number)


def export(args, argv, net, history, framework, device):
    """The trained network and its record, at --output or else in the temporary folder."""
    files = []

    def write(prefix):
        try:
            files[:] = framework.export(net, prefix)
            return files
        except OSError:  # no half-written model where it failed
            for suffix in ('-symbol.json', '-0000.params'):
                Path(f'{prefix}{suffix}').unlink(missing_ok=True)
            raise
    paths, failed = runtime.keep_results([
        (write, args.output),
        (lambda path: write_json(path, record(args, argv, history, files, framework, device)),
         Path(f'{args.output}.json'))])
    if paths and not failed:
        print(f'wrote {", ".join(str(f) for f in files)} and {paths[1]}')
    return failed or 0


# What a checkpoint's network and losses depend on: resuming with others would mix two runs.
RESUME_SETTINGS = ('framework', 'style', 'data', 'preset', 'content_weight', 'style_weight',
                   'tv_weight', 'width', 'norm', 'crop', 'batch_size', 'style_size', 'lr')


def check_resume(folder, args):
    """Refuse to resume a checkpoint made with other settings; record them for a new one."""
    mine = {k: str(getattr(args, k)) for k in RESUME_SETTINGS}
    path = folder / 'settings.json'
    if path.exists():
        theirs = {'framework': 'mxnet', **json.loads(path.read_text())}  # before --framework
        changed = [f'--{k.replace("_", "-")} {theirs.get(k)} -> {v}' for k, v in mine.items()
                   if theirs.get(k) != v]
        if changed:
            raise D2lStyleError(f'{folder} holds a run with other settings ({"; ".join(changed)}); '
                                'use its settings to resume it, or another --output (or delete '
                                'the folder) to start afresh')
    else:
        write_json(path, mine)


def record(args, argv, history, files, framework, device, status='done', **facts):
    """How the model was made: the command, the data, the losses along the way (each point
    the mean of a window of steps, stamped with the window's last step), how the run ended."""
    return runtime.record('d2lstyle ' + shlex.join(argv), vars(args), framework, device,
                          data=sorted(p.name for p in
                                      framework.d2l.PhotoFolder(args.data).paths),
                          iterations=int(history[-1, 0]) if len(history) else 0,
                          seconds=round(float(history[-1, 1]), 1) if len(history) else 0.0,
                          losses=windowed(history), status=status,
                          files={Path(f).name: sha256(f) for f in files}, **facts)


def windowed(history, points=50):
    every = max(1, len(history) // points)
    windows = [history[i:i + every] for i in range(0, len(history), every)]
    names = ('iteration', 'seconds', 'content', 'style', 'tv', 'total')
    return [dict(zip(names, map(float, [*w[-1, :2], *w[:, 2:].mean(axis=0)]))) for w in windows]
