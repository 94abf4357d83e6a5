"""What the commands and benchmarks share at run time (d2lstyle.runtime): records; and the
devices each framework gives the commands (d2lstyle.frameworks)."""
import json
import os
import subprocess
import sys

import mxnet as mx
import pytest

from d2lstyle import D2lStyleError, __version__, runtime, standin
from d2lstyle.atomic import write_json

MXNET = runtime.framework('mxnet')


def test_a_gpu_is_refused_clearly_when_mxnet_sees_none():
    with pytest.raises(D2lStyleError, match='--device gpu: MXNet sees no GPU.*--device cpu'):
        MXNET.device('gpu')
    with pytest.raises(D2lStyleError, match='--device gpu'):
        MXNET.devices('gpu', 1)
    assert MXNET.device('cpu') == mx.cpu()
    assert MXNET.devices('cpu', 2) == [mx.cpu(0), mx.cpu(1)]


def test_devices_are_the_gpus_mxnet_sees_and_no_more():
    with standin.installed(2):
        assert MXNET.device('gpu') == mx.gpu(0)
        assert MXNET.devices('gpu', 2) == [mx.gpu(0), mx.gpu(1)]
        with pytest.raises(D2lStyleError, match='--devices 3: MXNet sees 2 GPUs'):
            MXNET.devices('gpu', 3)


def test_pytorch_gives_its_cpu_and_refuses_what_it_cannot_do():
    torch = pytest.importorskip('torch')
    pytorch = runtime.framework('pytorch')
    cpu = pytorch.device('cpu')
    assert cpu == torch.device('cpu') and pytorch.gpu_free_gb(cpu) is None
    if not torch.cuda.is_available():
        with pytest.raises(D2lStyleError, match='--device gpu: PyTorch sees no GPU'):
            pytorch.device('gpu')
    with pytest.raises(D2lStyleError, match='--devices 2: the PyTorch tab trains on one'):
        pytorch.devices('cpu', 2)


def test_a_record_says_what_ran_where_with_which_versions(tmp_path):
    record = runtime.record('stylize', {'output': tmp_path / 'o.png'}, MXNET, mx.cpu(),
                            status='done')
    assert record['command'] == 'stylize' and record['status'] == 'done'
    assert record['framework'] == 'mxnet' and record['device'] == 'cpu(0)'
    assert record['versions']['d2lstyle'] == __version__
    assert record['versions']['mxnet'] == mx.__version__ == '1.9.1'
    assert record['machine'].startswith(f'{os.cpu_count()} cores of ')
    assert f"OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']}" in record['machine']
    path = tmp_path / 'deep' / 'o.json'
    write_json(path, record)  # a path becomes text; the folder is made
    assert json.loads(path.read_text())['settings'] == {'output': str(tmp_path / 'o.png')}
    assert not list(path.parent.glob('.*.part'))


FREE_HALF = '''
import sys
import numpy as np
from d2lstyle import runtime
if sys.argv[1] == 'apart':
    runtime.allocate_large_blocks_apart()
def rss():
    return int(open('/proc/self/statm').read().split()[1]) * 4096
first = np.ones(1 << 19)  # 4 MB, freed: glibc then raises its threshold past 2 MB
del first
blocks = [np.ones(1 << 18) for _ in range(100)]  # 100 blocks of 2 MB
before = rss()
del blocks[::2]  # every other block: holes in the heap that trimming cannot return
print((before - rss()) / 2**20)
'''


@pytest.mark.skipif(not os.path.exists('/proc/self/statm'), reason='needs Linux /proc')
def test_large_blocks_freed_go_back_to_the_system_between_stages():
    def freed_mb(mode):
        out = subprocess.run([sys.executable, '-c', FREE_HALF, mode], capture_output=True,
                             text=True, check=True).stdout
        return float(out)
    assert freed_mb('default') < 10  # glibc keeps the holes: what made the stages' peaks add up
    assert freed_mb('apart') > 90    # the 50 freed blocks of 2 MB, returned
