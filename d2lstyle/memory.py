"""Will a run fit in memory? An estimate made before anything is allocated.

A run that does not fit would allocate until the operating system kills it, with no message
and the machine thrashing on the way. So each command estimates its peak memory from the size
of what it computes, and refuses a plan that cannot fit in the memory available now, in one
line that says what it needs, what there is, and what to do.

The estimates are straight lines, peak = base + slope x megapixels, fitted to the peaks that
``benchmarks/memory.py`` measured (MXNet 1.9 on the CPU) and rounded up; that script checks
that every measured peak stays below them, and so does a test at two sizes. PyTorch's commands
use the same lines: its eager step at 1200x800 peaked lower on the CPU (3.1 GB against 4.4),
and on a GPU the lines were never measured (no GPU was lent where they were fitted).
"""
import math
import os
from dataclasses import dataclass

from . import D2lStyleError

# A stage passes whole where MEMORY_SHARE of the memory free when the run starts (the GPU's, or
# the system's) holds it by the stylize line below (memory.tile_megapixels); a larger one is
# optimised in tiles (chapter 3's TiledObjective) of that size, and never smaller than
# TILE_MEGAPIXELS, which keeps a stage under 4 GB; neighbouring tiles overlap by OVERLAP
# pixels, across which their gradients are blended. The rest of the memory is left to the
# framework's caching allocator and to the other programs running.
TILE_MEGAPIXELS = 0.6
OVERLAP = 64
MEMORY_SHARE = 0.8
# A photograph above this many megapixels passes through a transform network in tiles of at
# most this size with their margins (d2lstyle.transform_tiles): 2400x1600 passes whole.
TRANSFORM_TILE_MEGAPIXELS = 4.0
# A planned stage in tiles may fall back to L-BFGS (d2lstyle.plan), which keeps whole-image
# arrays: pairs of its past steps, at most LBFGS_HISTORY and as many as fit in
# LBFGS_HISTORY_GB, and about LBFGS_ARRAYS more. Only stages of at most FALLBACK_MEGAPIXELS
# (2400x1800 is 4.3) get the fallback, so that no stage's whole-image state grows past 1 GB.
LBFGS_HISTORY_GB = 0.5
LBFGS_HISTORY = 10
LBFGS_ARRAYS = 6
FALLBACK_MEGAPIXELS = 4.5
# Each region of stylize --mask adds the masked copies of the style layers' features and their
# gradients to a pass: measured on MXNet (the larger) at 0.7 to 0.8 GB per megapixel of the pass
# and region at 600x450 and 900x675 on the CPU (3 regions: peaks of 1.5 and 2.1 GB, 1.9 and 2.7
# GB); the plan is checked with this allowance added.
REGION_GB_PER_MEGAPIXEL = 0.8
# MXNet keeps the element count of an array in a signed 32-bit integer.
MAX_ELEMENTS = 2 ** 31 - 1
GB = 1e9
# conv1_1 and conv1_2 of VGG keep 64 channels at full resolution: the largest arrays of a pass.
VGG_CHANNELS = 64


@dataclass(frozen=True)
class Model:
    base_gb: float            # the process, MXNet and the network's weights
    gb_per_megapixel: float   # activations and their gradients, per megapixel of one pass
    # what stays whole while tiles pass (image, gradient, Adam's state, content features)
    gb_per_image_megapixel: float = 0.0

    def need_gb(self, megapixels, image_megapixels=0.0):
        return (self.base_gb + self.gb_per_megapixel * megapixels
                + self.gb_per_image_megapixel * image_megapixels)


# stylize: megapixels of the largest pass (a stage, or its largest tile, or the style image's)
# and of the whole largest stage; transform: of the photograph (or of its largest tile,
# and of the photograph); train: of one step's crops
# (crop x crop x batch size).
MODELS = {
    'stylize': Model(base_gb=0.8, gb_per_megapixel=4.6, gb_per_image_megapixel=0.2),
    'transform': Model(base_gb=0.45, gb_per_megapixel=0.75, gb_per_image_megapixel=0.1),
    'train': Model(base_gb=0.75, gb_per_megapixel=10.5),
}


def available_gb(gpu_gb=None):
    """Memory free for a new allocation now: on a GPU, ``gpu_gb``, its free memory as the
    framework tells it (``frameworks.*.gpu_free_gb``); otherwise the system's (Linux:
    MemAvailable). None where it cannot be told."""
    if gpu_gb is not None:
        return gpu_gb
    try:
        with open('/proc/meminfo') as f:
            for line in f:
                if line.startswith('MemAvailable:'):
                    return int(line.split()[1]) * 1024 / GB
    except OSError:
        pass
    try:
        return os.sysconf('SC_AVPHYS_PAGES') * os.sysconf('SC_PAGE_SIZE') / GB
    except (ValueError, OSError, AttributeError):
        return None


def largest_side(command, aspect=1.0, gpu_gb=None):
    """The longest side of an image (short side / long side = ``aspect``) for which
    ``command`` fits in the memory available now; None if nothing does or it is unknown."""
    model, available = MODELS[command], available_gb(gpu_gb)
    if available is None or available <= model.base_gb:
        return None
    megapixels = (available - model.base_gb) / model.gb_per_megapixel
    return int(math.sqrt(megapixels * 1e6 / aspect))


def tile_megapixels(gpu_gb=None):
    """The largest pass of a stylize stage: as large as MEMORY_SHARE of the memory free now
    (on a GPU ``gpu_gb``, else the system's) holds by MODELS['stylize'], never smaller than
    TILE_MEGAPIXELS, so that a stage is cut into tiles only where memory asks for it."""
    free = available_gb(gpu_gb)
    if free is None:
        return TILE_MEGAPIXELS
    model = MODELS['stylize']
    fits = (MEMORY_SHARE * free - model.base_gb) / (model.gb_per_megapixel +
                                                    model.gb_per_image_megapixel)
    return max(TILE_MEGAPIXELS, fits)


def check_elements(count, what, advice, limit=MAX_ELEMENTS):
    """Refuse an array beyond MXNet's limit of 2^31 - 1 elements (``limit``: None for a
    framework without one)."""
    if limit is not None and count > limit:
        raise D2lStyleError(f'{what} would need an array of {count:.3g} values, more than '
                            f'MXNet allows in one array ({limit + 1:.3g}); {advice}')


def check_fits(command, megapixels, what, advice, gpu_gb=None, image_megapixels=0.0,
               extra_gb=0.0):
    """Refuse a run (on a GPU with ``gpu_gb`` free) whose estimated peak (plus ``extra_gb``)
    exceeds the memory available there now. Returns the estimate in GB."""
    need = MODELS[command].need_gb(megapixels, image_megapixels) + extra_gb
    available = available_gb(gpu_gb)
    if available is not None and need > available:
        raise D2lStyleError(f'{what} needs about {need:.1f} GB of memory and {available:.1f} GB '
                            f'is available; {advice}')
    return need


def lbfgs_history(pixels):
    """How many pairs of L-BFGS's memory of an image of ``pixels`` fit in LBFGS_HISTORY_GB."""
    return max(1, min(LBFGS_HISTORY, int(LBFGS_HISTORY_GB / (2 * image_gb(pixels)))))


def lbfgs_gb(pixels):
    """L-BFGS's whole-image state for an image of ``pixels``: its pairs and its other arrays."""
    return (2 * lbfgs_history(pixels) + LBFGS_ARRAYS) * image_gb(pixels)


def image_gb(pixels):
    return 3 * 4 * pixels / GB  # one float32 image of three channels
