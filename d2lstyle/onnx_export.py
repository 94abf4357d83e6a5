"""A transform network as an ONNX model, for a browser (onnxruntime-web) or any ONNX runtime.

The network's own files (``networks``: MXNet's graph and parameters, read without MXNet) are
rewritten operator by operator with ``onnx.helper``: Pad (reflect), Conv,
InstanceNormalization or BatchNormalization, Relu, Add and Resize (nearest). Chapter 1's
preprocessing and postprocessing are part of the model, so that a page gives it pixels and gets
pixels back:

    image    float32 (1, 3, H, W), RGB values 0 to 255, H and W multiples of 4 (pad first:
             chapter 6's ``stylize_photo`` pads with reflection and crops the result)
    stylized float32 (1, 3, H, W), RGB values 0 to 255 (round them)
"""
import ast

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from . import D2lStyleError, networks, weights

OPSET = 17  # Resize, Pad and InstanceNormalization as onnxruntime-web's WebAssembly runs them


def _tuple(text):
    return tuple(ast.literal_eval(text))


class _Builder:
    """ONNX nodes and initializers, from the exported graph's nodes in order."""

    def __init__(self, params):
        self.params, self.nodes, self.initializers = params, [], []

    def constant(self, name, array):
        self.initializers.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def node(self, op, inputs, name, **attrs):
        self.nodes.append(helper.make_node(op, inputs, [name], name=name, **attrs))
        return name

    def weight(self, name):
        if name not in self.params:
            raise D2lStyleError(f'the graph names {name}, which its parameters lack: export '
                                'the network again')
        return self.constant(name, self.params[name].astype(np.float32))

    def convert(self, op, name, inputs, attrs):
        """The ONNX output of one operator of the exported graph."""
        if op == 'Pad':
            pads = _tuple(attrs['pad_width'])  # (before, after) per axis, NCHW
            onnx_pads = list(pads[0::2]) + list(pads[1::2])
            return self.node('Pad', [inputs[0], self.constant(f'{name}_pads',
                                                               np.array(onnx_pads, np.int64))],
                             name, mode=attrs.get('mode', 'constant'))
        if op == 'Convolution':
            kernel, stride = _tuple(attrs['kernel']), _tuple(attrs.get('stride', '(1, 1)'))
            pad = _tuple(attrs.get('pad', '(0, 0)'))
            return self.node('Conv', inputs, name, kernel_shape=list(kernel),
                             strides=list(stride), pads=list(pad) * 2)
        if op == 'InstanceNorm':
            return self.node('InstanceNormalization', inputs, name,
                             epsilon=float(attrs.get('eps', 1e-3)))
        if op == 'BatchNorm':
            return self.node('BatchNormalization', inputs, name,
                             epsilon=float(attrs.get('eps', 1e-3)))
        if op == 'Activation' and attrs.get('act_type') == 'relu':
            return self.node('Relu', inputs, name)
        if op == 'elemwise_add':
            return self.node('Add', inputs, name)
        if op == 'UpSampling' and attrs.get('sample_type') == 'nearest':
            scale = float(attrs['scale'])
            scales = self.constant(f'{name}_scales', np.array([1, 1, scale, scale], np.float32))
            return self.node('Resize', [inputs[0], '', scales], name, mode='nearest',
                             coordinate_transformation_mode='asymmetric',
                             nearest_mode='floor')
        raise D2lStyleError(f'{op} ({name}) is not a layer of chapter 6\'s TransformNet: '
                            'this graph cannot be exported to ONNX')


def to_onnx(prefix, name=None):
    """The ONNX model of the network exported at ``prefix`` (its pixels in and out)."""
    nodes, params = networks.read_graph(prefix)
    b = _Builder(params)
    mean = weights.RGB_MEAN.reshape(1, 3, 1, 1).astype(np.float32)
    std = weights.RGB_STD.reshape(1, 3, 1, 1).astype(np.float32)
    # preprocess: x / 255, less the mean, over the standard deviation
    scale = b.constant('pre_scale', (1 / (255 * std)).astype(np.float32))
    shift = b.constant('pre_shift', (-mean / std).astype(np.float32))
    x = b.node('Add', [b.node('Mul', ['image', scale], 'pre_scaled'), shift], 'normalised')
    outputs = []
    for node in nodes:
        if node['op'] == 'null':
            outputs.append(x if node['name'] == 'data' else b.weight(node['name']))
            continue
        inputs = [outputs[i] for i, _, _ in node['inputs']]
        outputs.append(b.convert(node['op'], node['name'], inputs, node.get('attrs', {})))
    # postprocess: times the standard deviation, plus the mean, clipped to [0, 1], times 255
    y = b.node('Mul', [outputs[-1], b.constant('post_scale', std)], 'post_scaled')
    y = b.node('Add', [y, b.constant('post_shift', mean)], 'denormalised')
    y = b.node('Clip', [y, b.constant('zero', np.float32(0)), b.constant('one', np.float32(1))],
               'clipped')
    b.node('Mul', [y, b.constant('to_pixels', np.float32(255))], 'stylized')
    shape = [1, 3, 'height', 'width']
    model = helper.make_model(
        helper.make_graph(b.nodes, name or 'transform_net',
                          [helper.make_tensor_value_info('image', TensorProto.FLOAT, shape)],
                          [helper.make_tensor_value_info('stylized', TensorProto.FLOAT, shape)],
                          b.initializers),
        opset_imports=[helper.make_opsetid('', OPSET)], producer_name='d2lstyle')
    model.ir_version = 8  # what onnxruntime-web and onnxruntime of 2024 on read
    onnx.checker.check_model(model, full_check=True)
    return model


def write_onnx(prefix, path):
    """``to_onnx(prefix)`` written to ``path``; the path."""
    onnx.save(to_onnx(prefix, path.stem), str(path))
    return path
