"""What the commands need of PyTorch beyond the book's PyTorch tab (``d2lstyle.torch``); the
same names as ``frameworks.mxnet``. No MXNet: this runs on any Python PyTorch runs on."""
import torch

from .. import D2lStyleError, networks, weights
from .. import torch as d2l
from .pytorch_tiles import TiledTransform

NAME = 'pytorch'
VERSION = torch.__version__
# A photograph larger than memory.TRANSFORM_TILE_MEGAPIXELS passes in tiles (pytorch_tiles).
TRANSFORM_TILES = True
# PyTorch indexes arrays with 64 bits: no limit on an array's elements below memory's
MAX_ELEMENTS = None
# what reading a model that is not an exported TransformNet raises (networks raises
# D2lStyleError for a missing, truncated or foreign file)
MODEL_ERRORS = (ValueError, KeyError)


def num_gpus():
    return torch.cuda.device_count()


def device(name):
    """The device of ``--device cpu`` or ``--device gpu`` (chapter 1's ``try_gpu``)."""
    if name == 'gpu' and num_gpus() == 0:
        raise D2lStyleError('--device gpu: PyTorch sees no GPU (this is a CPU build of '
                            'PyTorch, or no CUDA device is visible); use --device cpu')
    return d2l.try_gpu() if name == 'gpu' else torch.device('cpu')


def devices(name, count):
    """``count`` devices of ``--device name``; PyTorch's tab trains on one."""
    if count != 1:
        raise D2lStyleError(f'--devices {count}: the PyTorch tab trains on one device (chapter '
                            "7's DistributedDataParallel is not a command yet); use --devices 1, "
                            'or --framework mxnet to split the batch')
    return [device(name)]


def describe(dev):
    if dev.type == 'cuda':
        return f'{dev} ({torch.cuda.get_device_name(dev)})'
    return str(dev)


def gpu_free_gb(dev):
    """Free memory of a CUDA device in GB; None for the CPU."""
    if dev.type != 'cuda':
        return None
    return torch.cuda.mem_get_info(dev)[0] / 1e9


def seed(number):
    torch.manual_seed(number)


def to(X, dev):
    return X.to(dev)


def copy(X):
    return X.detach().clone()


def numel(X):
    return X.numel()


def is_zero(X):
    return not X.any()


def wait():
    """Until the work queued so far is done: CUDA kernels run asynchronously. A run on the CPU
    never starts CUDA (that takes memory on the GPU, or fails where another process holds it)."""
    if torch.cuda.is_initialized():
        torch.cuda.synchronize()


def load_vgg(backbone, dev):
    return weights.load_torch_vgg(backbone, dev)


def adam(preset, lr_decay_steps):
    """The preset's Adam, as chapter 3's ``gradient_descent`` takes it."""
    return d2l.adam_for(preset, lr_decay_steps)


def compiled(loss, **options):
    """Chapter 2's loss module, run eagerly: ``torch.compile`` spends longer compiling each
    stage's shape than a planned stage runs on the CPU."""
    return loss


def picture(X, bounds):
    """The image X as its picture shows it: clipped into ``bounds`` (chapter 3's
    ``pixel_bounds``)."""
    return X.clamp(*bounds)


def stage_done(net):
    """Give the cached blocks of the stage's arrays back to the GPU."""
    if torch.cuda.is_initialized():
        torch.cuda.empty_cache()


def load_transform(prefix, dev, tile_megapixels=None):
    """An exported network (either framework's export: ``networks``) as a function from a PIL
    image to its result: in one pass, or in tiles of at most ``tile_megapixels`` with the same
    result (``pytorch_tiles``)."""
    net = d2l.from_mxnet(prefix)  # the commands' one format, not chapter 6's .pt2 export
    if tile_megapixels:
        return TiledTransform(net, dev, tile_megapixels)
    net = net.to(dev)
    return lambda img: d2l.stylize_photo(net, img, dev)


def transform_net(width, norm, devs):
    """Chapter 6's network with new weights on the device."""
    return d2l.TransformNet(width, norm).to(devs[0])


def training_devices(devs):
    """What chapter 6's ``train_transform_net`` takes: PyTorch's trains on one device."""
    return devs[0]


def training_loss(loss, devs):
    return loss.to(devs[0])


def export(net, prefix):
    """The trained network in the format both frameworks read (``networks.write_network``)."""
    net = net.eval().cpu()
    kinds = {type(m) for m in net.modules()}
    norm = ('batch' if torch.nn.BatchNorm2d in kinds
            else 'instance' if torch.nn.InstanceNorm2d in kinds else None)
    return networks.write_network(prefix, net.net[0][1].out_channels, norm, [
        (name, value.numpy()) for name, value in net.state_dict().items()
        if not name.endswith('num_batches_tracked')])
