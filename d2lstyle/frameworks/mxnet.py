"""What the commands need of MXNet beyond the book's MXNet tab (``d2lstyle.mxnet``); the same
names as ``frameworks.pytorch``."""
import mxnet as mx

from .. import D2lStyleError, weights
from ..memory import MAX_ELEMENTS  # noqa: F401  (MXNet's limit, read by the commands)
from .. import mxnet as d2l
from .mxnet_tiles import TiledTransform

NAME = 'mxnet'
VERSION = mx.__version__
# A photograph larger than memory.TRANSFORM_TILE_MEGAPIXELS passes in tiles (mxnet_tiles).
TRANSFORM_TILES = True
# what loading a model that is not an exported TransformNet raises (JSONDecodeError: ValueError)
MODEL_ERRORS = (mx.MXNetError, ValueError, AssertionError)


def num_gpus():
    return mx.context.num_gpus()


def device(name):
    """The context of ``--device cpu`` or ``--device gpu`` (chapter 1's ``try_gpu``)."""
    if name == 'gpu' and num_gpus() == 0:
        raise D2lStyleError('--device gpu: MXNet sees no GPU (the CPU build of MXNet never '
                            'does); use --device cpu, or --framework pytorch')
    return d2l.try_gpu() if name == 'gpu' else mx.cpu()


def devices(name, count):
    """``count`` contexts of ``--device name``, for data-parallel training."""
    if name == 'gpu':
        device('gpu')  # the clear error when MXNet sees none
        if count > num_gpus():
            raise D2lStyleError(f'--devices {count}: MXNet sees {num_gpus()} GPUs')
        return [mx.gpu(i) for i in range(count)]
    return [mx.cpu(i) for i in range(count)]


def describe(ctx):
    return str(ctx)


def gpu_free_gb(ctx):
    """Free memory of a GPU context in GB; None for the CPU."""
    if ctx.device_type != 'gpu':
        return None
    return mx.context.gpu_memory_info(ctx.device_id)[0] / 1e9


def seed(number):
    mx.random.seed(number)


def to(X, ctx):
    return X.as_in_context(ctx)


def copy(X):
    return X.copy()


def numel(X):
    return X.size


def is_zero(X):
    return X.abs().max().asscalar() == 0


def wait():
    """Until the work queued so far is done: MXNet's operators run asynchronously."""
    mx.nd.waitall()


def load_vgg(backbone, ctx):
    return weights.load_vgg(backbone, ctx)


def adam(preset, lr_decay_steps):
    """The preset's Adam, as chapter 3's ``gradient_descent`` takes it."""
    return mx.optimizer.Adam(**d2l.adam_settings(preset, lr_decay_steps))


def compiled(loss, **options):
    """Chapter 2's hybridized loss block."""
    loss.hybridize(static_alloc=True, static_shape=True, **options)
    return loss


def picture(X, bounds):
    """The image X as its picture shows it: clipped into ``bounds`` (chapter 3's
    ``pixel_bounds``)."""
    return mx.nd.broadcast_minimum(mx.nd.broadcast_maximum(X, bounds[0]), bounds[1])


def stage_done(net):
    """Gluon's name scopes leave in each layer of the network the scope of the block that last
    called it (MXNet 1.9 never resets _BlockScope._old_scope), and with it that block: a stage's
    loss, and the memory of its graph, through the next stage."""
    net.apply(lambda block: setattr(block._scope, '_old_scope', None))


def load_transform(prefix, ctx, tile_megapixels=None):
    """An exported network as a function from a PIL image to its result: in one pass, or in
    tiles of at most ``tile_megapixels`` with the same result (``mxnet_tiles``)."""
    if tile_megapixels:
        return TiledTransform(prefix, ctx, tile_megapixels)
    net = d2l.load_model(prefix, ctx)
    return lambda img: d2l.stylize_photo(net, img, ctx)


def transform_net(width, norm, ctxs):
    """Chapter 6's network with new weights on ``ctxs``, hybridized."""
    net = d2l.TransformNet(width, norm)
    net.initialize(mx.init.Xavier(), ctx=ctxs)
    net.hybridize(static_alloc=True)
    return net


def training_devices(ctxs):
    """What chapter 6's ``train_transform_net`` takes: MXNet's splits each batch over them."""
    return ctxs


def training_loss(loss, ctxs):
    """Chapter 6's perceptual loss copied to every device, hybridized."""
    loss.collect_params().reset_ctx(ctxs)
    loss.hybridize(static_alloc=True)
    return loss


def export(net, prefix):
    """The trained network as PREFIX-symbol.json and PREFIX-0000.params; OSError where a file
    cannot be written (MXNet's own error carries the reason)."""
    net.collect_params().reset_ctx(mx.cpu())
    try:
        return d2l.export_model(net, prefix)
    except mx.MXNetError as err:
        raise OSError(str(err).strip().rsplit(': ', 1)[-1]) from None  # MXNet's reason
