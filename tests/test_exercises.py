"""Every name an exercise puts in backticks exists with that spelling: a function, class,
variable, keyword argument or string of the chapter's code, or a name of the package, a
command-line flag, a shipped model or an image. An exercise that names what is not there cannot
be done as written.

Calls of the frameworks' and libraries' own functions (``nd.``, ``torch.``, ``np.``, ...) are
not checked beyond the book's names they pass. A library's keyword that an exercise names bare
is in LIBRARY_NAMES, and checked against the library itself.
"""
import ast
import builtins
import re
import shlex
from functools import lru_cache
from pathlib import Path

import argparse
import importlib
import inspect

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from builder.notebooks import find_chapters

ROOT = Path(__file__).resolve().parents[1]
LIBRARIES = {'np', 'nd', 'mx', 'torch', 'nn', 'F', 'autograd', 'gluon', 'scipy', 'cv2', 'plt',
             'Image', 'ImageFilter', 'PIL', 'init'}
# a library's keyword or value that an exercise names bare: where the library documents it
LIBRARY_NAMES = {
    'static_alloc': ('mxnet.gluon', 'HybridBlock.hybridize'),
    'static_shape': ('mxnet.gluon', 'HybridBlock.hybridize'),
    'even_split': ('mxnet.gluon.utils', 'split_and_load'),
    'dynamic': ('torch', 'compile'),
    'max-autotune': ('torch', 'compile'),
}
BOOK_MODULES = {'d2l', 'd2lstyle', 'clips', 'weights', 'presets', 'networks', 'profiles',
                'transfer', 'images', 'plot'}


def exercises(nb):
    """The text of the chapter's exercises: its section "Exercises", up to the next section."""
    text = '\n'.join(c.source for c in nb.cells if c.cell_type == 'markdown')
    match = re.search(r'^## Exercises\n(.*?)(?=^## |\Z)', text, re.S | re.M)
    return match.group(1) if match else ''


class Names:
    """What a body of Python source defines: names, strings, and each function's parameters."""

    def __init__(self):
        self.names, self.strings, self.params = set(), set(), {}
        self.params['replace'] = set()  # dataclasses.replace: any dataclass's fields

    def add(self, source):
        try:
            tree = ast.parse(source)
        except SyntaxError:
            return
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                self.names.add(node.name)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                args = node.args
                params = {a.arg for a in args.posonlyargs + args.args + args.kwonlyargs}
                self.params.setdefault(node.name, set()).update(params)
                self.names |= params
            elif isinstance(node, ast.ClassDef):  # called with its __init__'s or its fields
                for item in node.body:
                    if isinstance(item, ast.FunctionDef) and item.name == '__init__':
                        self.params.setdefault(node.name, set()).update(
                            a.arg for a in item.args.args + item.args.kwonlyargs)
                    elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                        self.params.setdefault(node.name, set()).add(item.target.id)
                        self.params['replace'].add(item.target.id)
            elif isinstance(node, ast.Name):
                self.names.add(node.id)
            elif isinstance(node, ast.Attribute):
                self.names.add(node.attr)
            elif isinstance(node, ast.alias):
                self.names.add((node.asname or node.name).split('.')[0])
            elif isinstance(node, ast.keyword) and node.arg:
                self.names.add(node.arg)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                self.strings.add(node.value)
                if node.value.isidentifier():  # setattr('grad_req', ...)
                    self.names.add(node.value)


@lru_cache(maxsize=None)
def package():
    """The names of d2lstyle's modules and of the benchmarks, and the shipped models."""
    found = Names()
    for path in (ROOT / 'd2lstyle').rglob('*.py'):
        found.add(path.read_text())
        found.names.add(path.stem)
    for path in (ROOT / 'benchmarks').glob('*.py'):  # an exercise may ask to edit a benchmark
        found.add(path.read_text())
    models = {p.name.removesuffix('.json') for p in (ROOT / 'd2lstyle' / 'models').glob('*.json')}
    return found, models


@lru_cache(maxsize=None)
def command_flags():
    """Each command of ``d2lstyle`` and the flags it takes, from the program's own parser."""
    from d2lstyle.cli import make_parser
    commands = next(a for a in make_parser()._actions
                    if isinstance(a, argparse._SubParsersAction))
    return {name: set(sub._option_string_actions) for name, sub in commands.choices.items()}


def chapter_names(nb):
    found = Names()
    for cell in nb.cells:
        if cell.cell_type == 'code':
            found.add('\n'.join(l for l in cell.source.splitlines()
                                if not l.lstrip().startswith(('%', '!'))))
    return found


def root_of(node):
    while isinstance(node, (ast.Attribute, ast.Call, ast.Subscript)):
        node = node.value if not isinstance(node, ast.Call) else node.func
    return node.id if isinstance(node, ast.Name) else None


def problems_in_code(span, known, params):
    """What a span of Python names that is not there."""
    tree = ast.parse(span)
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id not in LIBRARIES | set(dir(builtins)):
            if node.id not in known and node.id not in LIBRARY_NAMES:
                problems.append(f'name {node.id}')
        elif isinstance(node, ast.Attribute) and root_of(node) in BOOK_MODULES:
            if node.attr not in known:
                problems.append(f'name {node.attr}')
        elif (isinstance(node, ast.Call) and root_of(node.func) not in LIBRARIES
              and isinstance(node.func, (ast.Name, ast.Attribute))):
            callee = node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id
            for keyword in node.keywords:
                if keyword.arg not in params.get(callee, set()):
                    problems.append(f'keyword {keyword.arg} of {callee}')
    return problems


def problems_in_command(span, folder):
    """What a ``d2lstyle`` or ``benchmarks/`` command line names that is not there."""
    words = shlex.split(span)
    if words[0] == 'd2lstyle':
        commands = command_flags()
        if len(words) < 2 or words[1] not in commands:
            return [f'command {" ".join(words[1:2])}']
        flags, words = commands[words[1]], words[1:]
    elif (ROOT / words[0]).is_file():
        flags = set(re.findall(r"'(--[a-z0-9-]+)'", (ROOT / words[0]).read_text()))
    else:
        return [f'file {words[0]}']
    problems = []
    for word in words[1:]:
        if word.startswith('--') and word not in flags:
            problems.append(f'flag {word}')
        elif word.startswith('img/') and not (folder.parent / word).exists():
            problems.append(f'file {word}')
    return problems


def code_problems(span, known, params):
    """What a span of Python, or of a dict's entries, names that is not there."""
    for text in (span, '{' + span + '}'):
        try:
            return problems_in_code(text, known, params)
        except SyntaxError:
            pass
    return ['nothing of that name (not Python, a flag, a file or a string of the chapter)']


def missing_names(nb, folder):
    """Each backticked span of the exercises that names something not there, with why."""
    chapter = chapter_names(nb)
    book, models = package()
    every_flag = set().union(*command_flags().values())
    known = chapter.names | book.names
    params = {name: chapter.params.get(name, set()) | book.params.get(name, set())
              for name in chapter.params.keys() | book.params.keys()}
    missing = []
    for span in re.findall(r'`([^`]+)`', exercises(nb)):
        span = ' '.join(span.split())
        if span in chapter.strings or span in models:
            continue
        if span in LIBRARY_NAMES:
            continue  # checked by test_the_library_names_are_the_librarys
        if span.startswith('d2lstyle ') or re.match(r'[\w/]+\.py ', span):
            problems = problems_in_command(span, folder)
        elif span.startswith('-'):
            problems = [] if span.split()[0] in every_flag else [f'flag {span.split()[0]}']
        elif re.fullmatch(r'[A-Z_]+=\S+', span):  # an environment variable
            name = span.split('=')[0]
            problems = [] if name in book.strings else [f'environment variable {name}']
        elif re.fullmatch(r'[\w./-]+\.(jpg|png|mp4|py)|\.\./img', span):
            places = (folder / '../img' / span, folder / span, ROOT / span, ROOT / 'd2lstyle' / span)
            problems = [] if any(p.exists() for p in places) else [f'file {span}']
        else:
            problems = code_problems(span, known, params)
        missing += [(span, p) for p in problems]
    return missing


@pytest.mark.parametrize('path', find_chapters(), ids=lambda p: p.stem)
def test_every_name_an_exercise_gives_exists(path):
    nb = nbformat.read(path, as_version=4)
    assert exercises(nb), f'{path.name} has no exercises'
    assert missing_names(nb, path.parent) == []


def test_the_check_finds_each_kind_of_missing_name():
    nb = new_notebook(cells=[
        new_code_cell('def compute_loss(X, style_weight=1e3):\n    return X\nlr = 1\npreset = 0\n'
                      'class Preset:\n    pooling: str = "max"'),
        new_markdown_cell(
            '## Exercises\n\n1. Change `style_weight` of `compute_loss`, then `lr=0.5`.\n'
            '2. Call `compute_loss(X, stile_weight=1)` and `no_such_function()`.\n'
            '3. Run `d2lstyle stylize img/tubingen.jpg img/no.jpg --no-such-flag 1` and '
            '`d2lstyle paint x`, with `--size 1200`, `--colour`, on `great_wave.jpg` and '
            '`nowhere.jpg`; `d2l.no_such_thing`, `clips.pan_zoom`, `an unknown phrase`.\n'
            '4. With `OMP_NUM_THREADS=1`, `NO_SUCH_VAR=1`, `static_alloc`, run '
            '`benchmarks/style_step.py --no-such-row x`, '
            "`dataclasses.replace(preset, pooling='avg', poling='avg')`.\n\n"
            '## References\n\n`not_checked_here`')])
    missing = missing_names(nb, ROOT / 'chapters')
    assert missing == [
        ('compute_loss(X, stile_weight=1)', 'keyword stile_weight of compute_loss'),
        ('no_such_function()', 'name no_such_function'),
        ('d2lstyle stylize img/tubingen.jpg img/no.jpg --no-such-flag 1', 'file img/no.jpg'),
        ('d2lstyle stylize img/tubingen.jpg img/no.jpg --no-such-flag 1', 'flag --no-such-flag'),
        ('d2lstyle paint x', 'command paint'),
        ('--colour', 'flag --colour'),
        ('nowhere.jpg', 'file nowhere.jpg'),
        ('d2l.no_such_thing', 'name no_such_thing'),
        ('an unknown phrase', 'nothing of that name (not Python, a flag, a file or a string of '
                              'the chapter)'),
        ('NO_SUCH_VAR=1', 'environment variable NO_SUCH_VAR'),
        ('benchmarks/style_step.py --no-such-row x', 'flag --no-such-row'),
        ("dataclasses.replace(preset, pooling='avg', poling='avg')", 'keyword poling of replace')]


def test_the_library_names_are_the_librarys():
    for name, (module, path) in LIBRARY_NAMES.items():
        target = importlib.import_module(module)
        for part in path.split('.'):
            target = getattr(target, part)
        documented = set(inspect.signature(target).parameters) | set(
            re.findall(r'[\w-]+', inspect.getdoc(target) or ''))
        assert name in documented, f'{module}.{path} has no {name}'
