"""Writing files so that an interrupted run never leaves a truncated one behind, a place
that cannot take them is refused before the work, and a write that fails after the work
keeps the result in the temporary folder."""
import json
import os
import tempfile
from contextlib import contextmanager, suppress
from pathlib import Path

from . import D2lStyleError


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
        with suppress(OSError):  # the folder may be gone: the first error is the one to see
            os.unlink(tmp)
        raise


def check_writable(folder, what):
    """Refuse, before any work, a ``folder`` in which no file can be created (read-only, not
    ours, a file in the way, a full disk); a missing one is made. ``what`` names the option."""
    folder = Path(folder)
    existing = next(p for p in (folder, *folder.parents) if p.exists() or p == p.parent)
    if existing.exists() and not existing.is_dir():
        raise D2lStyleError(f'{what}: {existing} is a file, not a folder; choose another path')
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=folder, prefix='.d2lstyle-probe.')
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        raise D2lStyleError(f'{what}: cannot write in {folder} ({err.strerror}); choose a '
                            'folder you can write to, or free space there') from None


def kept_path(path):
    """Where a file that could not be written at ``path`` is kept: the temporary folder."""
    return Path(tempfile.gettempdir()) / f'd2lstyle-{os.getpid()}-{Path(path).name}'


# The exit code of a command whose results could not be written where asked
EXIT_KEPT = 74  # EX_IOERR of sysexits.h


class Keeper:
    """Writes a run's results where they belong, or, once one write there fails (a full
    disk, a folder gone or made read-only during the run), that one and the rest in the
    temporary folder (``kept_path``), so that the work is not lost with the write."""

    def __init__(self):
        self.failed, self.kept = None, []  # the first write that failed: (path, OSError)

    def write(self, write, path):
        """``write(path)``, or ``write(kept_path(path))``; the path written. ``write`` may
        return the files it wrote under that path, which ``message`` then names. An OSError
        means that not even the temporary folder took it."""
        if self.failed is None:
            try:
                write(path)
                return Path(path)
            except OSError as err:
                self.failed = path, err
        kept = kept_path(path)
        self.kept += write(kept) or [kept]
        return kept

    def message(self):
        """One line: what could not be written, why, and where it and the rest went."""
        path, err = self.failed
        return (f'could not write {path} ({err.strerror or err}); kept '
                f'{" and ".join(map(str, self.kept))} instead')


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
