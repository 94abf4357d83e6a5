"""The set-up files agree with each other: what the README promises is what CI and conda run."""
import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def pins(lines):
    return dict(re.match(r'\s*-?\s*([A-Za-z0-9_.-]+)==(\S+)', line).groups()
                for line in lines if re.match(r'\s*-?\s*[A-Za-z0-9_.-]+==', line))


def test_environment_yml_mirrors_requirements():
    requirements = pins((ROOT / 'requirements.txt').read_text().splitlines())
    conda = pins((ROOT / 'environment.yml').read_text().splitlines())
    assert requirements and conda == requirements
    assert 'python=3.11' in (ROOT / 'environment.yml').read_text()


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / 'README.md').read_text()
    first_block = readme.split('```')[1]
    assert 'make book' in first_block and 'make test' in first_block
    ci = [line for line in (ROOT / '.ci' / 'run').read_text().splitlines()
          if line and not line.startswith(('#', 'set ', 'cd '))]
    assert ci == ['make test']


def test_every_image_is_credited():
    credits = (ROOT / 'img' / 'CREDITS.md').read_text()
    images = list((ROOT / 'img').rglob('*.jpg'))
    assert len(images) > 10  # the paintings, the photographs and chapter 5's training set
    for image in images:
        name = image.relative_to(ROOT / 'img').as_posix()
        assert name in credits, name


def newer_python():
    """A Python 3.12+ interpreter that runs here (pyenv's shims may not), or None."""
    import glob
    import shutil
    import subprocess
    pyenv = os.environ.get('PYENV_ROOT', os.path.expanduser('~/.pyenv'))
    candidates = [shutil.which('python3.12'), shutil.which('python3.13'),
                  *sorted(glob.glob(f'{pyenv}/versions/3.1[2-9]*/bin/python3'))]
    for python in filter(None, candidates):
        done = subprocess.run([python, '-c', 'import sys; print(sys.version_info >= (3, 12))'],
                              capture_output=True, text=True)
        if done.stdout.strip() == 'True':
            return python
    return None


def test_python_3_12_gets_a_clear_error():
    import subprocess
    python = newer_python()
    if python is None:
        pytest.skip('no Python 3.12+ runs on this machine')
    done = subprocess.run([python, '-c', 'import d2lstyle'], capture_output=True, text=True,
                          env={'PYTHONPATH': str(ROOT), 'PATH': os.environ['PATH']})
    assert done.returncode != 0
    assert 'd2lstyle needs Python 3.10 or 3.11' in done.stderr and 'distutils' in done.stderr
