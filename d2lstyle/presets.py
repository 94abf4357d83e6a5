"""Known settings of style transfer, selectable by name, each as its authors wrote it.

The command line's options override a preset's parts (``from_options``).

A preset records its numbers in the units of the implementation it reproduces; chapter 4's
``loss_weights`` and ``adam_settings`` convert them for d2lstyle's networks, whose activations
and pixels have other scales. Layer names are the paper's (conv4_4 is the fourth convolution
of block 4); each backbone has its own, since VGG-16 has three convolutions per deep block
where VGG-19 has four.
"""
import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

from . import D2lStyleError

STYLE_LAYERS = ('conv1_1', 'conv2_1', 'conv3_1', 'conv4_1', 'conv5_1')


@dataclass(frozen=True)
class Preset:
    content_layers: dict        # backbone -> layer names; the first backbone is the default
    style_layers: tuple = STYLE_LAYERS
    style_layer_weights: tuple = (1, 1, 1, 1, 1)
    content_weight: float = 1
    style_weight: float = 1e3
    tv_weight: float = 10
    # The original's loss, relative to chapter 1's means of squares: activations from Caffe's
    # VGG on 0-255 pixels (57.6 times ours), Gram matrices divided by the positions M only
    # (not by C*M), and Gatys's 1/4 in front of both losses.
    caffe_activations: bool = False
    gram_by_positions: bool = False
    quarter: bool = False
    after_relu: bool = False    # take each layer's output after its ReLU, as Keras does
    pooling: str = 'max'
    noise_ratio: float = 0.0    # start from (1 - r) * content + r * noise
    optimizer: str = 'adam'     # 'adam' or 'lbfgs'
    # Adam's hyperparameters; pixels_01: the original's pixels were in [0, 1], not normalised
    adam: dict = field(default_factory=lambda: {'learning_rate': 0.3})
    pixels_01: bool = False
    lr_decay: bool = True       # chapter 1's decay, by 0.8 every 50 steps
    clip: bool = False          # keep pixels in [0, 1] after every step
    source: str = ''

    @property
    def backbones(self):
        return tuple(self.content_layers)


PRESETS = {
    'd2l': Preset(
        {'vgg19': ('conv4_4',), 'model_zoo': ('conv4_4',), 'vgg16': ('conv4_3',)},
        source='the d2l chapter (chapter 1 of this book): weights for the rescaled VGG-19'),
    'keras-tutorial': Preset(
        {'vgg19': ('conv5_2',)}, style_layer_weights=(0.2,) * 5, content_weight=1e4,
        style_weight=1e-2, tv_weight=0, caffe_activations=True, gram_by_positions=True,
        after_relu=True, adam={'learning_rate': 0.02, 'beta1': 0.99, 'epsilon': 0.1}, pixels_01=True,
        lr_decay=False, clip=True,
        source="TensorFlow's Keras tutorial: style weight shared by the 5 layers, Adam on "
               "[0, 1] pixels, clipped"),
    'gatys-tf1': Preset(
        {'vgg19': ('conv4_2',)}, style_layer_weights=(0.5, 1, 1.5, 3, 4), content_weight=5,
        style_weight=100, tv_weight=0, caffe_activations=True, gram_by_positions=True,
        quarter=True, pooling='avg',
        noise_ratio=0.7, optimizer='lbfgs',
        source='a TensorFlow 1 implementation of Gatys et al.: average pooling, losses '
               '1/(4NM) and 1/(4N^2M^2), noise ratio 0.7; L-BFGS as in the paper'),
    'vgg16-conv5_2': Preset(
        {'vgg16': ('conv5_2',)},
        source="chapter 1's weights on torchvision's VGG-16, content from conv5_2"),
}


def get(name):
    if name not in PRESETS:
        raise D2lStyleError(f'unknown preset {name!r}: choose one of {", ".join(PRESETS)}')
    return PRESETS[name]


STARTS = ('content', 'noise')  # what --init names, besides an image file


def init_image(init):
    """The image file that --init names, or None for a start from the content or noise."""
    return None if init is None or init in STARTS else Path(init)


def from_options(args):
    """The preset named by --preset, with the options given on the command line in place of
    its own parts."""
    preset = get(args.preset)
    changes = {name: getattr(args, name, None) for name in
               ('content_weight', 'style_weight', 'tv_weight', 'optimizer')
               if getattr(args, name, None) is not None}
    if args.lr is not None:
        changes['adam'] = dict(preset.adam, learning_rate=args.lr)
    if getattr(args, 'init', None) is not None:  # the option's start replaces the preset's
        changes['noise_ratio'] = 1.0 if args.init == 'noise' else 0.0
    return dataclasses.replace(preset, **changes)
