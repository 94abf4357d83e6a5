"""builder/__init__.py: write_atomic, by which every file of a build is written."""
import os

import pytest

from builder import write_atomic
from d2lstyle.atomic import umask


def test_write_atomic_replaces_and_leaves_no_temporary_files(tmp_path):
    path = tmp_path / 'sub' / 'page.html'
    write_atomic(path, 'old')
    write_atomic(path, b'new \xe2\x9c\x93')
    assert path.read_text() == 'new \u2713'
    assert [p.name for p in path.parent.iterdir()] == ['page.html']
    assert path.stat().st_mode & 0o444 == 0o444 & ~umask()  # readable as a web page


def test_write_atomic_keeps_the_old_file_when_writing_fails_midway(tmp_path, monkeypatch):
    path = tmp_path / 'page.html'
    write_atomic(path, 'old')
    real_fdopen = os.fdopen

    class DiskFull:
        def __init__(self, f):
            self.f = f

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

        def write(self, data):
            self.f.write(data[:2])
            raise OSError(28, 'No space left on device')

    monkeypatch.setattr(os, 'fdopen', lambda fd, mode: DiskFull(real_fdopen(fd, mode)))
    with pytest.raises(OSError, match='No space'):
        write_atomic(path, 'new content')
    assert path.read_text() == 'old'
    assert [p.name for p in tmp_path.iterdir()] == ['page.html']


def test_write_atomic_keeps_the_old_file_when_interrupted_before_the_rename(tmp_path, monkeypatch):
    path = tmp_path / 'page.html'
    write_atomic(path, 'old')

    def interrupted(src, dst):
        assert open(src).read() == 'new'  # written in full, not yet in place
        raise KeyboardInterrupt

    monkeypatch.setattr(os, 'replace', interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(path, 'new')
    assert path.read_text() == 'old'
    assert [p.name for p in tmp_path.iterdir()] == ['page.html']
