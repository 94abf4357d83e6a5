"""Writing files so that an interrupted run never leaves a truncated one behind."""
import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_write(path):
    """A binary file that replaces ``path`` in one rename, only once it is fully written.

    The temporary file sits beside the target (a rename within one file system is atomic);
    a missing folder is created.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f'.{path.name}.', suffix='.part')
    os.chmod(tmp, 0o666 & ~umask())  # mkstemp makes it private; a site must be readable
    try:
        with os.fdopen(fd, 'wb') as f:
            yield f
            f.flush()
            os.fsync(f.fileno())  # on disk before the rename makes it visible
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def sync(paths):
    """Flush files that a library wrote without fsync to disk, before a commit names them."""
    for path in paths:
        with open(path, 'rb') as f:
            os.fsync(f.fileno())

def umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_json(path, data):
    """``data`` as indented JSON in ``path``, atomically; paths and other objects as text."""
    with atomic_write(path) as f:
        f.write((json.dumps(data, indent=1, default=str) + '\n').encode())
