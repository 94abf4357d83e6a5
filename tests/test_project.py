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
    images = [*(ROOT / 'img').rglob('*.jpg'), *(ROOT / 'img').rglob('*.mp4')]
    assert len(images) > 10  # the paintings, the photographs and chapter 6's training set
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


def test_python_3_12_imports_the_package_and_gets_a_clear_error_for_mxnet():
    import subprocess
    python = newer_python()
    if python is None:
        pytest.skip('no Python 3.12+ runs on this machine')
    env = {'PYTHONPATH': str(ROOT), 'PATH': os.environ['PATH']}
    plain = subprocess.run([python, '-c', 'import d2lstyle, d2lstyle.frameworks'],
                           capture_output=True, text=True, env=env)
    assert plain.returncode == 0, plain.stderr  # the PyTorch tab's Python
    done = subprocess.run([python, '-c', 'from d2lstyle import mxnet'], capture_output=True,
                          text=True, env=env)
    assert done.returncode != 0
    assert 'needs Python 3.10 or 3.11' in done.stderr and 'distutils' in done.stderr


# Imports flow one way: the entry points, then the commands, then the runtime, then the
# library. The chapters' code (d2lstyle/mxnet/ and d2lstyle/torch/, a package per framework of one
# module per chapter, above d2lstyle/common/, the code of both tabs) counts as one module each here: a chapter imports its package to reach
# earlier chapters, as d2l's does.
LAYERS = [
    ('build', 'd2lstyle.__main__', 'benchmarks'),
    ('builder', 'd2lstyle.cli'),
    ('d2lstyle.stylize', 'd2lstyle.transfer'),
    # what the commands need of each framework beyond its chapters' code
    ('d2lstyle.runtime', 'd2lstyle.frameworks.mxnet', 'd2lstyle.frameworks.mxnet_tiles',
     'd2lstyle.frameworks.pytorch', 'd2lstyle.frameworks.pytorch_tiles',
     'd2lstyle.transform_tiles'),
    ('d2lstyle.mxnet', 'd2lstyle.torch'),
    ('d2lstyle.common',),
    ('d2lstyle.weights', 'd2lstyle.images', 'd2lstyle.presets', 'd2lstyle.profiles',
     'd2lstyle.memory', 'd2lstyle.plot', 'd2lstyle.standin', 'd2lstyle.networks',
     'd2lstyle.onnx_export', 'd2lstyle.masks'),
    ('d2lstyle.atomic', 'd2lstyle.frameworks'),
    ('d2lstyle',),
]


def unit(module):
    """The layer entry a module belongs to: its longest prefix named in LAYERS."""
    names = sorted((n for layer in LAYERS for n in layer), key=len, reverse=True)
    return next((n for n in names if module == n or module.startswith(n + '.')), None)


def imports_of(path):
    """The project modules that ``path`` imports (relative imports resolved)."""
    import ast
    parts = list(path.relative_to(ROOT).with_suffix('').parts)
    package = parts[:-1] if parts[-1] != '__init__' else parts[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = (package[:len(package) - node.level + 1] if node.level else [])
            module = '.'.join(base + ([node.module] if node.module else []))
            found.add(module)
            found.update(f'{module}.{alias.name}' for alias in node.names)  # a submodule
    return {unit(m) for m in found if unit(m)}


def project_modules():
    files = [ROOT / 'build.py', *(ROOT / 'd2lstyle').rglob('*.py'),
             *(ROOT / 'builder').rglob('*.py'), *(ROOT / 'benchmarks').glob('*.py')]
    return {path: unit('.'.join(path.relative_to(ROOT).with_suffix('').parts).removesuffix('.__init__'))
            for path in files}


def test_every_module_is_in_a_layer():
    assert None not in project_modules().values()


def test_imports_go_only_to_lower_layers_and_in_no_circle():
    rank = {name: i for i, layer in enumerate(LAYERS) for name in layer}
    graph = {}
    for path, source in project_modules().items():
        graph.setdefault(source, set()).update(imports_of(path) - {source})
    upward = [f'{source} imports {target}' for source, targets in graph.items()
              for target in targets if rank[target] < rank[source]]
    assert not upward
    # within a layer (the library's modules import one another): no circle either
    done, path = set(), []

    def visit(module):
        assert module not in path, ' -> '.join(path[path.index(module):] + [module])
        if module not in done:
            path.append(module)
            for target in graph.get(module, ()):
                visit(target)
            path.pop()
            done.add(module)
    for module in graph:
        visit(module)
