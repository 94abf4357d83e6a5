"""The transform networks the package ships (d2lstyle/models/), and their files read without
MXNet: an exported network is PREFIX-symbol.json (the graph) and PREFIX-0000.params (MXNet's
list-of-arrays format), which chapter 5's PyTorch tab loads into its own TransformNet."""
import json
import struct
from pathlib import Path

import numpy as np

from . import D2lStyleError

MODELS = Path(__file__).parent / 'models'  # the models the package ships
LIST_MAGIC = 0x112  # MXNet's NDArray list file
ARRAY_MAGICS = (0xF993FAC9, 0xF993FACA)  # an NDArray, format 2 and 3
DTYPES = {0: np.float32, 1: np.float64, 2: np.float16, 3: np.uint8, 4: np.int32, 5: np.int8,
          6: np.int64}


def shipped():
    """The names of the shipped networks."""
    return sorted(p.name[:-len('-symbol.json')] for p in MODELS.glob('*-symbol.json'))


def _read(f, fmt, path):
    size = struct.calcsize(fmt)
    data = f.read(size)
    if len(data) != size:
        raise D2lStyleError(f'{path} is truncated: export the network again')
    return struct.unpack(fmt, data)


def _read_array(f, path):
    """One dense NDArray as MXNet's NDArray::Save writes it."""
    (magic,) = _read(f, '<I', path)
    if magic not in ARRAY_MAGICS:
        raise D2lStyleError(f'{path}: not an MXNet array file (magic {magic:#x})')
    (storage,) = _read(f, '<i', path)
    if storage != 0:
        raise D2lStyleError(f'{path}: a sparse array, which a transform network never has')
    (ndim,) = _read(f, '<I', path)
    shape = _read(f, f'<{ndim}q', path)
    _read(f, '<ii', path)  # the device it was saved from
    (type_flag,) = _read(f, '<i', path)
    dtype = np.dtype(DTYPES[type_flag])
    count = int(np.prod(shape))
    data = f.read(count * dtype.itemsize)
    if len(data) != count * dtype.itemsize:
        raise D2lStyleError(f'{path} is truncated: export the network again')
    return np.frombuffer(data, dtype).reshape(shape)


def read_params(path):
    """{name: numpy array} of an MXNet .params file, without MXNet; export's names keep
    their 'arg:' or 'aux:' prefix off."""
    with open(path, 'rb') as f:
        magic, _ = _read(f, '<QQ', path)
        if magic != LIST_MAGIC:
            raise D2lStyleError(f'{path}: not an MXNet .params file (magic {magic:#x})')
        (count,) = _read(f, '<Q', path)
        arrays = [_read_array(f, path) for _ in range(count)]
        (num_names,) = _read(f, '<Q', path)
        names = [f.read(_read(f, '<Q', path)[0]).decode() for _ in range(num_names)]
    return {name.split(':', 1)[-1]: a for name, a in zip(names, arrays)}


def read_network(prefix):
    """The parameters of an exported network in the order its graph uses them, and the graph's
    operators: ([(name, array)], [(op, attrs)])."""
    prefix = Path(prefix)
    symbol, params = Path(f'{prefix}-symbol.json'), Path(f'{prefix}-0000.params')
    for path in (symbol, params):
        if not path.is_file():
            raise D2lStyleError(f'{path} not found: give the prefix of an exported network '
                                f'(PREFIX-symbol.json and PREFIX-0000.params), or one of '
                                f'{", ".join(shipped())}')
    try:
        nodes = json.loads(symbol.read_text())['nodes']
    except (ValueError, KeyError) as err:
        raise D2lStyleError(f'{symbol} is not an exported graph ({err}): export it again') from None
    arrays = read_params(params)
    order = [n['name'] for n in nodes if n['op'] == 'null' and n['name'] in arrays]
    return [(name, arrays[name]) for name in order], [(n['op'], n.get('attrs', {}))
                                                     for n in nodes if n['op'] != 'null']
