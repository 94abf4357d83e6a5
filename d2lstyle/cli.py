"""d2lstyle: neural style transfer with the book's own code, from the command line.

    d2lstyle stylize CONTENT STYLE [STYLE ...] -o OUT   optimise an image (chapters 1 to 5)
    d2lstyle train STYLE -o MODEL                       train a transform network (chapter 6)
    d2lstyle transform --model MODEL IN OUT             stylize a photograph or a video
                                                        (chapters 6 and 7) with one

Each command runs the book's code of either framework (``--framework mxnet`` or ``pytorch``,
``frameworks``) with the same options, plans and records. This module parses the options,
checks them and dispatches to ``stylize`` or ``transfer``; nothing imports it. The checks run
before the framework is imported, so a bad input is a one-line
error and exit code 2 at once, a folder that cannot take the output included. A diverging run
stops and keeps its last good image (exit 1). Ctrl-C, SIGTERM and SIGHUP save the current image
and the record (exit 130, 143 and 129; ``signals``). Files are written atomically; where the
output's folder fails after the work (a full disk), the results are kept in the temporary
folder, named in one line (exit 74).
"""
import argparse
import math
import sys
from pathlib import Path

from . import D2lStyleError, clips, frameworks, masks, presets, signals
from .atomic import check_writable
from .images import MIN_SIDE, SUFFIXES, read_image
from .weights import BACKBONES


def _number(kind, test, what):
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f'{text!r} is not a number') from None
        if not test(value) or (kind is float and not math.isfinite(value)):
            raise argparse.ArgumentTypeError(f'{text} must be {what}')
        return value
    return parse


DEVICE_HELP = ("where to run (default: cpu; gpu needs PyTorch's CUDA build, or MXNet's on "
               'Python 3.10/3.11)')
FRAMEWORK_HELP = ("the book's code to run: mxnet (its first tab; Python 3.10/3.11) or pytorch "
                  '(any current Python; the way to a GPU). Default: MXNet where it runs here, '
                  'else PyTorch')

positive_int = _number(int, lambda v: v > 0, 'a positive whole number')
positive = _number(float, lambda v: v > 0, 'positive')
non_negative = _number(float, lambda v: v >= 0, 'zero or positive')
fraction = _number(float, lambda v: 0 <= v < 1, 'at least 0 and below 1')


def make_parser():
    parser = argparse.ArgumentParser(prog='d2lstyle', description=__doc__.split('\n\nThis')[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest='command', required=True)
    s = commands.add_parser('stylize', help='paint a photograph in the style of paintings')
    s.add_argument('content', type=Path, help='the photograph')
    s.add_argument('styles', type=Path, nargs='+', metavar='style',
                   help='one or more paintings; with --mask, none for a region left as the '
                        'photograph')
    s.add_argument('-o', '--output', type=Path, required=True, help='.png or .jpg to write')
    s.add_argument('--size', type=positive_int, nargs='+', default=[300, 600],
                   help='long side in pixels of each progressive stage (default: 300 600); '
                        'one size without --iterations: the final size, for which the '
                        'command plans its stages, iterations and optimisers')
    s.add_argument('--iterations', type=positive_int, nargs='+',
                   help='iterations of each stage, or one number for all (default: 200 for '
                        'the first stage, 60 for each later one)')
    s.add_argument('--preset', default='d2l',
                   help=f'a known setting (chapter 4): {", ".join(presets.PRESETS)}; the '
                   'options below override its parts')
    add_weight_options(s)
    s.add_argument('--style-blend-weights', type=non_negative, nargs='+',
                   help='one weight per style image (default: equal)')
    s.add_argument('--mask', type=Path, nargs='+', metavar='MASK',
                   help="where each painting goes (chapter 5): one image with a flat colour per "
                        "painting (name them with --mask-colors), or one grey image per painting "
                        "(white: its region); the photograph's shape, any scale. Pixels of no "
                        'region keep only the content and TV losses')
    s.add_argument('--mask-colors', nargs='+', metavar='COLOR',
                   help='with one --mask image: the colour of each painting\'s region, in the '
                        'order of the paintings (a name such as red, or #ff0000)')
    s.add_argument('--style-masks', type=Path, nargs='+', metavar='MASK',
                   help='with --mask: the part of each painting to take its style from, a grey '
                        'image of its shape (white: take), or all for the whole painting')
    s.add_argument('--style-scale', type=positive, default=1.0,
                   help='size of the style image relative to the output (default: 1)')
    s.add_argument('--init', help="content, noise, or an image path (default: the preset's)")
    s.add_argument('--optimizer', choices=['adam', 'lbfgs'], nargs='+',
                   help="adam (with --lr and its decay) or lbfgs (chapter 3; no learning rate, "
                   "and each iteration is one evaluation, line-search trials included), for "
                   "every stage or one per size (default: the preset's)")
    s.add_argument('--lr', type=positive, help="learning rate (default: the preset's)")
    s.add_argument('--lr-decay-steps', '--lr-decay-epoch', type=positive_int, default=50,
                   help='multiply the learning rate by 0.8 this often (default: 50)')
    s.add_argument('--color-transfer', choices=['luminance', 'histogram'],
                   help="keep the photograph's colours: luminance (the result's luminance with "
                        "the photograph's chroma) or histogram (the painting's colours matched "
                        "to the photograph's before transfer); default: the painting's colours")
    s.add_argument('--original-colors', dest='color_transfer', action='store_const',
                   const='luminance', help='the same as --color-transfer luminance')
    s.add_argument('--backbone', choices=BACKBONES, help="default: the preset's")
    add_device_options(s)
    s.add_argument('--seed', type=int, default=0,
                   help='seed of the random numbers, such as the noise of --init noise '
                        '(default: 0)')
    s.add_argument('--save-every', type=positive_int, metavar='N',
                   help='also write OUT_<iteration> every N iterations')
    add_train_parser(commands)
    add_transform_parser(commands)
    return parser


def add_weight_options(parser, content=None):
    for name in ('content', 'style', 'tv'):
        default = content if name == 'content' else None
        parser.add_argument(f'--{name}-weight', type=non_negative, default=default,
                            help=f'default: {default}' if default else "default: the preset's")


def add_device_options(parser):
    parser.add_argument('--framework', choices=frameworks.NAMES, help=FRAMEWORK_HELP)
    parser.add_argument('--device', choices=['cpu', 'gpu'], default='cpu', help=DEVICE_HELP)


def add_train_parser(commands):
    t = commands.add_parser('train', help='train a transform network for one painting (chapter 6)')
    t.add_argument('style', type=Path, help='the painting')
    t.add_argument('-o', '--output', type=Path, required=True,
                   help='prefix of the exported model: writes OUT-symbol.json, OUT-0000.params, '
                   'OUT.json (the record) and checkpoints in OUT.checkpoint/')
    t.add_argument('--data', type=Path, default=Path(__file__).parent.parent / 'img' / 'photos',
                   help='a folder of photographs, e.g. COCO train2017 (default: img/photos)')
    t.add_argument('--iterations', type=positive_int, default=1000, help='steps (default: 1000)')
    t.add_argument('--batch-size', type=positive_int, default=4,
                   help='crops per step, split over --devices (default: 4)')
    t.add_argument('--crop', type=positive_int, default=128,
                   help='training crops, pixels square (default: 128)')
    t.add_argument('--width', type=positive_int, default=16,
                   help="channels of the network's first layer (Johnson et al.: 32)")
    t.add_argument('--norm', choices=['instance', 'batch'], default='instance',
                   help='normalisation after each convolution (chapter 6 compares them; '
                        'default: instance)')
    t.add_argument('--style-size', type=positive_int, default=256,
                   help='width in pixels of the painting when its Gram matrices are taken '
                        '(default: 256)')
    t.add_argument('--preset', default='d2l',
                   help='layers and loss weights (chapter 4; default: d2l)')
    # A network starts from nothing, not from the photograph: it needs more content (chapter 6).
    add_weight_options(t, content=4.0)
    t.add_argument('--lr', type=positive, default=1e-3,
                   help="Adam's learning rate (default: 0.001)")
    add_device_options(t)
    t.add_argument('--devices', type=positive_int, default=1,
                   help='train data-parallel on this many devices (MXNet: split_and_load; '
                        'PyTorch trains on one)')
    t.add_argument('--save-every', type=positive_int, default=100, metavar='N',
                   help='checkpoint every N iterations (default: 100)')
    t.add_argument('--seed', type=int, default=0,
                   help="seed of the network's first weights and of the crops (default: 0)")


def add_transform_parser(commands):
    x = commands.add_parser('transform', help='stylize a photo or a video with a trained '
                            'transform network')
    x.add_argument('--model', required=True,
                   help='a shipped model (starry_night) or the prefix d2lstyle train wrote')
    x.add_argument('input', type=Path,
                   help=f'the photograph, any size, or a video ({", ".join(clips.VIDEO_SUFFIXES)})')
    x.add_argument('output', type=Path,
                   help=f'.png or .jpg to write; for a video, {" or ".join(clips.WRITERS)}')
    x.add_argument('--blend', type=fraction, default=0.5, metavar='ALPHA',
                   help='a video: mix each frame with the previous result carried along the '
                        'optical flow, this much of it, against flicker (chapter 7; default: '
                        '0.5; 0: none)')
    add_device_options(x)


def check_output(output, inputs):
    """An output Pillow can write, which overwrites no input, in a folder that takes files."""
    if output.suffix.lower() not in SUFFIXES:
        raise D2lStyleError(f'{output}: the output must end in one of {", ".join(SUFFIXES)}')
    check_not_an_input(output, inputs)
    check_writable(output.parent, str(output))


def check_not_an_input(output, inputs):
    for path in inputs:
        if real_path(path) == real_path(output):
            raise D2lStyleError(f'{output}: the output would overwrite an input; '
                                'choose another output path')


def check_transform(args):
    """A photograph goes to an image, a video to a video that OpenCV can read and write."""
    if not clips.is_video(args.input):
        if args.output.suffix.lower() in clips.WRITERS:
            raise D2lStyleError(f'{args.output}: {args.input} is a photograph, so the output '
                                f'is an image ({", ".join(SUFFIXES)}); give a video '
                                f'({", ".join(clips.VIDEO_SUFFIXES)}) to get a video')
        return check_output(args.output, [args.input])
    clips.check_video_output(args.output)
    check_not_an_input(args.output, [args.input])
    clips.video_info(args.input)
    check_writable(args.output.parent, str(args.output))  # last: it makes a missing folder


def check_train(args):
    presets.get(args.preset)
    if args.batch_size % args.devices:
        raise D2lStyleError(f'--batch-size {args.batch_size} does not split evenly over '
                            f'--devices {args.devices}')
    if args.crop < MIN_SIDE or args.crop % 4:
        raise D2lStyleError(f'--crop {args.crop}: use a multiple of 4 of at least {MIN_SIDE} '
                            "pixels (the network halves it twice; VGG's pooling needs room)")
    if args.style_size < MIN_SIDE:
        raise D2lStyleError(f'--style-size {args.style_size}: at least {MIN_SIDE} pixels')
    if not args.data.is_dir():
        raise D2lStyleError(f'--data {args.data}: not a folder of photographs')
    # the exported model and its record, and the checkpoints' folder beside them
    check_writable(args.output.parent, f'--output {args.output}')
    checkpoints = Path(f'{args.output}.checkpoint')
    if checkpoints.exists():
        check_writable(checkpoints, f'--output {args.output} (its checkpoints)')


def check_stylize(args):
    init = presets.init_image(args.init)
    paintings = [p for p in args.styles if str(p) != masks.NONE]
    check_output(args.output, [args.content, *paintings, *(args.mask or [])]
                 + ([init] if init else []))
    # A final size alone: stylize plans the stages (d2lstyle/plan.py)
    args.planned = len(args.size) == 1 and args.iterations is None
    if args.iterations is None:
        args.iterations = [200] + [60] * (len(args.size) - 1)
    if len(args.iterations) not in (1, len(args.size)):
        raise D2lStyleError(f'--iterations has {len(args.iterations)} values for '
                            f'{len(args.size)} sizes: give one, or one per size')
    if args.optimizer and len(args.optimizer) not in (1, len(args.size)):
        raise D2lStyleError(f'--optimizer has {len(args.optimizer)} values for '
                            f'{len(args.size)} sizes: give one, or one per size')
    if args.style_blend_weights and len(args.style_blend_weights) != len(args.styles):
        raise D2lStyleError(f'--style-blend-weights has {len(args.style_blend_weights)} values '
                            f'for {len(args.styles)} style images')
    if args.style_blend_weights and not sum(args.style_blend_weights):
        raise D2lStyleError('--style-blend-weights are all zero')
    check_regions(args)
    preset = presets.get(args.preset)
    if args.backbone and args.backbone not in preset.backbones:
        raise D2lStyleError(f'--preset {args.preset} names layers of '
                            f'{", ".join(preset.backbones)} only, not of {args.backbone}; '
                            'leave out --backbone or choose another preset')
    if args.framework == 'pytorch' and (args.backbone or preset.backbones[0]) == 'model_zoo':
        raise D2lStyleError("--backbone model_zoo is MXNet's own VGG19 (gluoncv): use "
                            '--framework mxnet, or --backbone vgg19')


def check_regions(args):
    """--mask and its companions, the mask files included (masks.read_regions)."""
    given = [o for o, v in (('--mask-colors', args.mask_colors), ('--style-masks',
                                                                     args.style_masks)) if v]
    if not args.mask:
        if given or any(str(p) == masks.NONE for p in args.styles):
            raise D2lStyleError(f'{given[0] if given else "the painting none"} needs --mask, '
                                'which says where each painting goes')
        return
    if args.style_blend_weights:
        raise D2lStyleError('--style-blend-weights mixes paintings everywhere; with --mask each '
                            'painting has its own region: leave one of them out')
    masks.read_regions(args, read_image(args.content).size)


def real_path(path):
    """``path`` with every symbolic link followed, or a clear error for a loop of them."""
    try:
        return Path(path).resolve()
    except (RuntimeError, OSError):  # Python 3.11 raises RuntimeError for a loop, 3.13 OSError
        raise D2lStyleError(f'{path}: a loop of symbolic links, which leads to no file; '
                            'point the link at a real file') from None


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = make_parser().parse_args(argv)
    try:
        with signals.held():  # while a command saves; its work is in blocks that stop
            with signals.stop_at_once():
                command = checked(args, argv)
            return command()
    except D2lStyleError as err:
        print(f'd2lstyle: error: {err}', file=sys.stderr)
        return 2
    except KeyboardInterrupt as stop:  # before the command had a result to keep
        number = signals.signum(stop)
        print(f'd2lstyle: {signals.status(number)} before there was a result to keep; '
              'nothing was written', file=sys.stderr)
        return signals.exit_code(number)


def checked(args, argv):
    """The command of ``args``, to call, once its options passed their checks. The commands'
    modules import the framework (seconds): only after the cheap checks."""
    args.framework = args.framework or frameworks.default()
    frameworks.require(args.framework)
    if args.command == 'stylize':
        check_stylize(args)
        from .stylize import stylize
        return lambda: stylize(args)
    if args.command == 'train':
        check_train(args)
        from .transfer import train
        return lambda: train(args, argv)
    check_transform(args)
    from .transfer import transform
    return lambda: transform(args)


if __name__ == '__main__':
    sys.exit(main())
