"""The transform networks the package ships (d2lstyle/models/), and their files read without
MXNet: an exported network is PREFIX-symbol.json (the graph) and PREFIX-0000.params (MXNet's
list-of-arrays format), which chapter 6's PyTorch tab loads into its own TransformNet."""
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
    nodes, arrays = read_graph(prefix)
    order = [n['name'] for n in nodes if n['op'] == 'null' and n['name'] in arrays]
    return [(name, arrays[name]) for name in order], [(n['op'], n.get('attrs', {}))
                                                     for n in nodes if n['op'] != 'null']


def read_graph(prefix):
    """An exported network's graph, its nodes in order (each with its op, name, attrs and
    inputs; the last is the output), and its parameters by name: (nodes, {name: array})."""
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
    return nodes, read_params(params)


def _write_array(f, array):
    """One dense float32 NDArray as NDArray::Save writes it (format 2, saved from the CPU)."""
    array = np.ascontiguousarray(array, dtype=np.float32)
    f.write(struct.pack('<IiI', ARRAY_MAGICS[0], 0, array.ndim))
    f.write(struct.pack(f'<{array.ndim}q', *array.shape))
    f.write(struct.pack('<iii', 1, 0, 0))  # cpu(0), float32
    f.write(array.tobytes())


def write_params(path, arrays):
    """An MXNet .params file of ``arrays``, [(name, numpy array)] with export's 'arg:' or
    'aux:' names, that MXNet's load and ``read_params`` read."""
    with open(path, 'wb') as f:
        f.write(struct.pack('<QQQ', LIST_MAGIC, 0, len(arrays)))
        for _, array in arrays:
            _write_array(f, array)
        f.write(struct.pack('<Q', len(arrays)))
        for name, _ in arrays:
            f.write(struct.pack('<Q', len(name.encode())) + name.encode())


class _Graph:
    """MXNet's JSON graph of a network, built node by node as Gluon's export writes it."""

    def __init__(self):
        self.nodes, self.outputs, self.count = [], [], {}
        self.params = []  # (name, 'arg' or 'aux') in the graph's order

    def name(self, kind):
        k = self.count.get(kind, 0)
        self.count[kind] = k + 1
        return f'{kind}{k}'

    def op(self, op, name, inputs, outputs=1, **attrs):
        self.nodes.append({'op': op, 'name': name, 'attrs': {k: str(v) for k, v in attrs.items()},
                           'inputs': [[i, 0, 0] for i in inputs]})
        self.outputs.append(outputs)
        return len(self.nodes) - 1

    def var(self, name, kind='arg'):
        self.params.append((name, kind))
        self.nodes.append({'op': 'null', 'name': name, 'inputs': []})
        self.outputs.append(1)
        return len(self.nodes) - 1

    def conv_block(self, x, channels, kernel, stride=1, norm='instance', relu=True):
        pad = kernel // 2
        x = self.op('Pad', f'{self.name("reflectionpad2d")}_pad0', [x], mode='reflect',
                    pad_width=(0, 0, 0, 0, pad, pad, pad, pad))
        conv = self.name('conv')
        x = self.op('Convolution', f'{conv}_fwd', [x, self.var(f'{conv}_weight'),
                                                    self.var(f'{conv}_bias')],
                    dilate=(1, 1), kernel=(kernel, kernel), layout='NCHW', no_bias=False,
                    num_filter=channels, num_group=1, pad=(0, 0), stride=(stride, stride))
        if norm == 'instance':
            n = self.name('instancenorm')
            x = self.op('InstanceNorm', f'{n}_fwd', [x, self.var(f'{n}_gamma'),
                                                      self.var(f'{n}_beta')], outputs=3,
                        eps=1e-05)
        elif norm == 'batch':
            n = self.name('batchnorm')
            inputs = [x, self.var(f'{n}_gamma'), self.var(f'{n}_beta'),
                      self.var(f'{n}_running_mean', 'aux'), self.var(f'{n}_running_var', 'aux')]
            x = self.op('BatchNorm', f'{n}_fwd', inputs, outputs=3, axis=1, eps=1e-05,
                        fix_gamma=False, momentum=0.9, use_global_stats=False)
            self.nodes[x]['inputs'][3][2] = self.nodes[x]['inputs'][4][2] = 1  # aux states
        if not relu:
            return x
        return self.op('Activation', f'{self.name("relu")}_fwd', [x], act_type='relu')

    def json(self, head):
        return {'nodes': self.nodes,
                'arg_nodes': [i for i, n in enumerate(self.nodes) if n['op'] == 'null'],
                'node_row_ptr': [0, *np.cumsum(self.outputs).tolist()],
                'heads': [[head, 0, 0]], 'attrs': {'mxnet_version': ['int', 10901]}}


def transform_graph(width, norm):
    """The graph chapter 6's TransformNet(width, norm) exports, and its parameters' names
    ('arg:...' or 'aux:...') in the order of the network's layers."""
    g = _Graph()
    x = g.var('data')
    g.params.clear()
    x = g.conv_block(x, width, 9, norm=norm)
    x = g.conv_block(x, 2 * width, 3, 2, norm=norm)
    x = g.conv_block(x, 4 * width, 3, 2, norm=norm)
    for _ in range(5):
        y = g.conv_block(x, 4 * width, 3, norm=norm)
        y = g.conv_block(y, 4 * width, 3, norm=norm, relu=False)
        x = g.op('elemwise_add', f'{g.name("residualblock")}__plus0', [x, y])
    for channels in (2 * width, width):
        x = g.op('UpSampling', f'{g.name("upsample")}_upsampling0', [x], num_args=1,
                 sample_type='nearest', scale=2)
        x = g.conv_block(x, channels, 3, norm=norm)
    x = g.conv_block(x, 3, 9, norm=None, relu=False)
    return g.json(x), [f'{kind}:{name}' for name, kind in g.params]


def write_network(prefix, width, norm, arrays):
    """A TransformNet's weights, [(name, numpy array)] in its layers' order, as MXNet's export
    writes them (PREFIX-symbol.json, PREFIX-0000.params): the one model format that both
    frameworks' ``transform`` read. The paths written."""
    graph, names = transform_graph(width, norm)
    if len(names) != len(arrays):
        raise ValueError(f'{len(arrays)} arrays for the {len(names)} parameters of a '
                         f'TransformNet({width}, {norm!r})')
    symbol, params = Path(f'{prefix}-symbol.json'), Path(f'{prefix}-0000.params')
    symbol.write_text(json.dumps(graph, indent=2))
    write_params(params, [(name, a) for name, (_, a) in zip(names, arrays)])
    return symbol, params
