"""Known settings of style transfer, selectable by name, each with its source's numbers.

The command line's options override a preset's parts (``from_options``).

A preset records its numbers in the units of the implementation it reproduces; chapter 4's
``loss_weights``, ``adam_settings`` and ``start_image`` convert them for d2lstyle's networks,
whose activations and pixels have other scales. Layer names are the paper's (conv4_4 is the
fourth convolution of block 4); each backbone has its own, since VGG-16 has three convolutions
per deep block where VGG-19 has four. Where the book does not follow its source, the preset's
``departures`` says so; ``url`` names the source, and tests/test_presets.py checks each preset
against a table of its source's values.
"""
import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

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
    # The start: (1 - r) * content + r * noise, noise 'normal' or 'uniform'. noise_scale: the
    # uniform noise's half-width in the source's pixel units (pixel_scale); None: chapter 3's
    # N(0, 1) in normalised units (its sources draw no noise, or this one)
    noise_ratio: float = 0.0
    noise: str = 'normal'
    noise_scale: Optional[float] = None
    optimizer: str = 'adam'     # 'adam' or 'lbfgs'
    # Adam's hyperparameters, in the units of the source's pixels: pixel_scale 1 for pixels in
    # [0, 1], 255 for pixels in [0, 255] (less a mean either way), None for normalised pixels
    adam: dict = field(default_factory=lambda: {'learning_rate': 0.3})
    pixel_scale: Optional[float] = None
    lr_decay: bool = True       # chapter 1's decay, by 0.8 every 50 steps
    clip: bool = False          # keep pixels in [0, 1] after every step
    num_steps: int = 500        # the source's number of optimiser steps (the book: its profile's)
    source: str = ''
    url: str = ''
    departures: str = ''        # where the book does not do what the source does

    @property
    def backbones(self):
        return tuple(self.content_layers)


PRESETS = {
    'd2l': Preset(
        {'vgg19': ('conv4_4',), 'model_zoo': ('conv4_4',), 'vgg16': ('conv4_3',)},
        source="the neural style chapter of Dive into Deep Learning (chapter 1 of this book): "
               "Adam from the photograph, learning rate 0.3 decayed by 0.8 every 50 steps",
        url='https://d2l.ai/chapter_computer-vision/neural-style.html',
        departures="the learning rate 0.3 is that of d2l's PyTorch version (its MXNet version "
                   "uses 0.9); the default backbone is Caffe's VGG-19 rescaled to normalised "
                   "pixels, not torchvision's (backbone 'model_zoo' is Gluon's); the number of "
                   "steps is the profile's, not 500; the style weight 1e3 is that of d2l's "
                   "earlier editions, and its current edition's code uses 1e4"),
    'keras-tutorial': Preset(
        {'vgg19': ('conv5_2',)}, style_layer_weights=(0.2,) * 5, content_weight=1e4,
        style_weight=1e-2, tv_weight=0, caffe_activations=True, gram_by_positions=True,
        after_relu=True, adam={'learning_rate': 0.02, 'beta1': 0.99, 'epsilon': 0.1},
        pixel_scale=1, lr_decay=False, clip=True, num_steps=1000,
        source="TensorFlow's style transfer tutorial (Keras VGG19): style weight shared by "
               "the 5 layers, Adam on [0, 1] pixels from the photograph, clipped",
        url='https://www.tensorflow.org/tutorials/generative/style_transfer',
        departures="Adam's learning rate and epsilon are converted with the mean of the three "
                   "channels' deviations (they differ by 2%); the tutorial's later section with "
                   "a total variation loss is not reproduced; the number of steps is the "
                   "profile's, not 1000"),
    'gatys-tf1': Preset(
        {'vgg19': ('conv4_2',)}, style_layer_weights=(0.5, 1, 1.5, 3, 4), content_weight=5,
        style_weight=100, tv_weight=0, caffe_activations=True, gram_by_positions=True,
        quarter=True, after_relu=True, pooling='avg',
        noise_ratio=0.6, noise='uniform', noise_scale=20,
        adam={'learning_rate': 2.0}, pixel_scale=255, lr_decay=False, num_steps=5000,
        source='a TensorFlow 1 implementation of Gatys et al. (log0/neural-style-painting): '
               'layers after their ReLU, average pooling, losses 1/(4NM) and 1/(4N^2M^2), '
               'start 0.6 U(-20, 20) + 0.4 photograph on 0-255 pixels, Adam at 2.0',
        url='https://github.com/log0/neural-style-painting/blob/'
            'a8395c727ea23300841c7b14f4536a743634e463/art.py',
        departures="Adam's learning rate and epsilon are converted with the mean of the three "
                   "channels' deviations (they differ by 2%); the photograph is centred on "
                   "ImageNet's mean, not Caffe's (at most 0.5 of a 0-255 pixel apart); the "
                   "number of steps is the profile's, not 5000"),
    'vgg16-conv5_2': Preset(
        {'vgg16': ('conv5_2',)},
        source="the d2l setting on torchvision's VGG-16, content from conv5_2: this book's "
               "own variant, with no outside source",
        departures="none: it is defined here"),
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
               ('content_weight', 'style_weight', 'tv_weight')
               if getattr(args, name, None) is not None}
    if args.lr is not None:
        changes['adam'] = dict(preset.adam, learning_rate=args.lr)
    if getattr(args, 'init', None) is not None:  # the option's start replaces the preset's
        changes['noise_ratio'] = 1.0 if args.init == 'noise' else 0.0
    return dataclasses.replace(preset, **changes)
