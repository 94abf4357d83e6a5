"""Named settings of layers, loss weights and learning rate, selectable by name.

Layer names are the paper's (conv4_4 is the fourth convolution of block 4); each backbone
has its own, since VGG-16 has three convolutions per deep block where VGG-19 has four.
"""
from dataclasses import dataclass

from . import D2lStyleError

STYLE_LAYERS = ('conv1_1', 'conv2_1', 'conv3_1', 'conv4_1', 'conv5_1')


@dataclass(frozen=True)
class Preset:
    content_layers: dict  # backbone -> layer names
    style_layers: tuple
    content_weight: float
    style_weight: float
    tv_weight: float
    lr: float


PRESETS = {
    # Chapter 1: the deepest convolution of block 4 for content, the first of every block
    # for style; weights tuned for the rescaled VGG-19 (see the chapter).
    'd2l': Preset({'vgg19': ('conv4_4',), 'model_zoo': ('conv4_4',), 'vgg16': ('conv4_3',)},
                  STYLE_LAYERS, content_weight=1, style_weight=1e3, tv_weight=10, lr=0.3),
}


def get(name):
    if name not in PRESETS:
        raise D2lStyleError(f'unknown preset {name!r}: choose one of {", ".join(PRESETS)}')
    return PRESETS[name]
