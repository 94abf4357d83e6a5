"""builder/package.py: d2lstyle/mxnet/, a module per chapter from its #@save cells."""
import ast
import os
import re
import subprocess
import sys

import pytest
from nbformat.v4 import new_markdown_cell

from builder import PACKAGE, ROOT, BuildError
from builder.notebooks import find_chapters
from builder.package import (GENERATED, PACKAGES, SAVED_HEADER, import_lines, module_name,
                             saved_modules, save_code)
from builder.tabs import ALL, FRAMEWORKS
from conftest import notebook

REAL = ROOT / PACKAGE / GENERATED


def test_each_chapter_that_marks_code_gets_a_module_of_its_marked_cells_in_order(book):
    a = notebook(book / 'chapters', '01_a', '#@save\ndef f():\n    return 1\n', 'f()',
                 'x = 1  #@save', new_markdown_cell('#@save\nnot code'))
    b = notebook(book / 'chapters', '02_b', 'y = 2', '#@save\nimport os', '#@save  \n\nZ = 3\n\n')
    c = notebook(book / 'chapters', '03_c', 'print("no #@save cell")')
    files = saved_modules([a, b, c])
    assert list(files) == ['a.py', 'b.py', '__init__.py']
    assert files['a.py'] == (
        SAVED_HEADER + '"""The code of chapters/01_a.ipynb, "01_a"."""\n\n'
        "__all__ = [\n    'f']\n\n\n"
        '# Defined in chapters/01_a.ipynb, section "01_a"\ndef f():\n    return 1\n')
    assert files['b.py'] == (
        SAVED_HEADER + '"""The code of chapters/02_b.ipynb, "02_b"."""\n\n'
        "__all__ = [\n    'Z']\n\nimport os\n\n\n"
        '# Defined in chapters/02_b.ipynb, section "02_b"\nZ = 3\n')
    init = files['__init__.py']
    assert init.startswith(SAVED_HEADER) and init.endswith(
        "__all__ = [\n    'f', 'Z']\n\n"
        "from d2lstyle.frameworks import require\n\nrequire('mxnet')\n\n"
        'from .a import (\n    f)\nfrom .b import (\n    Z)\n')
    assert 'build.py' in SAVED_HEADER and '#@save' in SAVED_HEADER and 'do not edit' in SAVED_HEADER
    assert 'python build.py --save-only' in SAVED_HEADER


def test_a_cell_with_several_marks_gives_each_definition_its_back_link(book):
    path = notebook(book / 'chapters', '01_a',
                    new_markdown_cell('## Losses\n\nText.'),
                    '#@save\nimport math\n\n\n#@save\ndef f():\n    return math.pi\n\n\n'
                    '# a reason\n#@save\nclass C:\n    pass\n\nA = 1\nB, _b = 2, 3',
                    new_markdown_cell('### Details'),
                    '#@save\nfrom pathlib import Path\nimport d2lstyle\ndef g():\n    return Path')
    code = saved_modules([path])['a.py']
    assert '#@save' not in code.replace(SAVED_HEADER, '')
    link = '# Defined in chapters/01_a.ipynb, section "{}"\n'
    assert link.format('Losses') + 'def f():' in code
    assert link.format('Losses') + '# a reason\nclass C:' in code
    assert link.format('Losses') + 'A = 1\nB, _b = 2, 3\n' in code  # a run of statements: one link
    assert link.format('Details') + 'def g():' in code
    head = code[:code.index('\n\n\n')]
    assert head.endswith("__all__ = [\n    'f', 'C', 'A', 'B', 'g']\n\n"  # not _private
                         'import math\nfrom pathlib import Path\n\nimport d2lstyle')
    compile(code, 'generated', 'exec')


def test_imports_are_merged_in_pep8_groups():
    assert import_lines(['from d2lstyle import weights', 'import numpy as np', 'import os',
                         'from mxnet import nd', 'from d2lstyle import mxnet as d2l',
                         'from pathlib import Path', 'from mxnet import autograd']) == [
        'import os', 'from pathlib import Path', '',
        'import numpy as np', 'from mxnet import autograd, nd', '',
        'from d2lstyle import mxnet as d2l, weights']


def test_the_helpers_a_chapter_imports_from_d2lstyle_are_exported_but_not_the_package(book):
    path = notebook(book / 'chapters', '01_a',
                    '#@save\nimport os\nfrom os import sep\nfrom d2lstyle import mxnet as d2l, '
                    'profiles\nfrom d2lstyle.profiles import x as y\nZ = d2l')
    assert "__all__ = [\n    'Z', 'profiles', 'y']\n" in saved_modules([path])['a.py']


def test_module_names_come_from_the_notebooks_names(book):
    assert module_name('chapters/01_neural_style.ipynb') == 'neural_style'
    assert module_name('06_feed_forward.ipynb') == 'feed_forward'
    for bad in ('01_neural-style.ipynb', '02_class.ipynb', '03.ipynb'):
        with pytest.raises(BuildError, match='cannot name the module'):
            module_name(bad)
    a = notebook(book / 'chapters', '01_a', '#@save\nA = 1')
    b = notebook(book / 'chapters', '2_a', '#@save\nB = 1')
    with pytest.raises(BuildError, match='two chapters make the module a.py'):
        saved_modules([a, b])


def test_a_later_chapter_uses_the_earlier_ones_code_while_it_is_imported(book):
    notebook(book / 'chapters', '01_first', '#@save\nclass Loss:\n    scale = 1',
             '#@save\nfrom d2lstyle.profiles import x')
    notebook(book / 'chapters', '02_second', '#@save\nfrom d2lstyle import mxnet as d2l\n\n\n'
             'class Better(d2l.Loss):\n    scale = 2 * d2l.x',
             '#@save\nfrom d2lstyle.profiles import x')
    notebook(book / 'chapters', '03_third', '#@save\nfrom d2lstyle import mxnet as d2l\n\n\n'
             'class Loss(d2l.Better):  # a later chapter may define a name again\n    pass')
    save_code(find_chapters(folder=book / 'chapters'), book / 'd2lstyle' / 'mxnet')
    init = (book / 'd2lstyle' / 'mxnet' / '__init__.py').read_text()
    assert 'from .first import (\n    Loss, x)\nfrom .second import (\n    Better)\n' in init
    checks = {  # each in a fresh interpreter, importing the package by another way in
        'from d2lstyle import mxnet as d2l': 'd2l',
        'import d2lstyle.mxnet.second as second': 'second.d2l',
        'from d2lstyle.mxnet.third import Loss': '__import__("d2lstyle").mxnet'}
    for statement, package in checks.items():
        code = (f'{statement}\np = {package}\nassert p.Better.__bases__ == (p.first.Loss,)\n'
                'assert p.Better.scale == 2 and p.x == 1 and p.Loss is p.third.Loss\n'
                'assert p.__all__ == ["Loss", "x", "Better"]')
        done = subprocess.run([sys.executable, '-c', code], cwd=book, capture_output=True,
                              text=True, env=dict(os.environ, PYTHONPATH=str(book)))
        assert done.returncode == 0, (statement, done.stderr)


def test_save_code_writes_only_what_changed_and_removes_stale_modules(book):
    a = notebook(book / 'chapters', '01_a', '#@save\nA = 1')
    b = notebook(book / 'chapters', '02_b', '#@save\nB = 1')
    target = book / 'd2lstyle' / 'mxnet'
    assert save_code([a, b], target) == [target / 'a.py', target / 'b.py', target / '__init__.py']
    assert {p.name: p.read_text() for p in target.iterdir()} == saved_modules([a, b])
    os.utime(target / 'a.py', (0, 0))
    assert save_code([a, b], target) == []
    assert (target / 'a.py').stat().st_mtime == 0  # not rewritten
    (target / 'notes.py').write_text('# by hand')  # not generated: left for the test below
    assert save_code([b], target) == [target / '__init__.py', target / 'a.py']
    assert sorted(p.name for p in target.iterdir()) == ['__init__.py', 'b.py', 'notes.py']
    with pytest.raises(BuildError, match='no chapters'):
        save_code([], target)  # would wipe the package's code
    assert 'B = 1' in (target / 'b.py').read_text()


@pytest.mark.parametrize('framework', (*FRAMEWORKS, ALL))
def test_the_package_matches_the_chapters(framework):
    """Fails when a package and the chapters disagree, a stale or extra module included."""
    chapters = find_chapters()
    if not chapters:
        pytest.skip('chapters/ has no notebooks yet')
    folder = ROOT / PACKAGE / PACKAGES[framework]
    files = {p.name: p.read_text() for p in folder.glob('*.py')}
    assert files == saved_modules(chapters, framework), \
        f'{folder} differs from the #@save cells: run python build.py --save-only'


def test_a_pytorch_cell_goes_to_the_torch_package_and_an_unmarked_one_to_mxnet(book):
    path = notebook(book / 'chapters', '01_a', '#@save\nA = 1', '#@tab pytorch\n#@save\nB = 2',
                    '#@tab all\n#@save\nC = 3')
    mxnet_code = saved_modules([path])['a.py']
    assert 'A = 1' in mxnet_code and 'B = 2' not in mxnet_code
    torch_code = saved_modules([path], 'pytorch')
    assert 'B = 2' in torch_code['a.py'] and 'A = 1' not in torch_code['a.py']
    assert "require('pytorch')" in torch_code['__init__.py']
    assert 'torch as d2l' in torch_code['__init__.py']


def test_code_of_all_tabs_is_generated_once_and_each_framework_imports_it(book):
    path = notebook(book / 'chapters', '01_a', '#@save\nA = 1', '#@tab pytorch\n#@save\nB = 2',
                    '#@tab all\n#@save\nimport math\n\n\ndef c():\n    return math.pi')
    common = saved_modules([path], ALL)
    assert 'def c():' in common['a.py'] and 'A = 1' not in common['a.py']
    assert 'require(' not in common['__init__.py']  # it needs no framework
    for framework in FRAMEWORKS:
        code = saved_modules([path], framework)['a.py']
        assert 'def c():' not in code
        assert 'from d2lstyle.common.a import c' in code
        assert "'c'" in code.split('import', 1)[0]  # in __all__: d2l.c in each tab


def test_the_common_package_imports_no_framework():
    code = ('import sys\nfrom d2lstyle import frameworks\n'
            "frameworks.forbid('mxnet', 'gluoncv', 'torch', why='it is common code')\n"
            'import d2lstyle.common as common\nprint(len(common.__all__))')
    done = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) > 0


@pytest.mark.parametrize('framework', (*FRAMEWORKS, ALL))
def test_the_package_has_no_stray_marker_and_a_back_link_for_every_definition(framework):
    for path in sorted((ROOT / PACKAGE / PACKAGES[framework]).glob('*.py')):
        code = path.read_text()
        assert '#@save' not in code.replace(SAVED_HEADER, ''), path.name
        assert '#@tab' not in code, path.name
        lines, end = code.splitlines(), 0
        for node in ast.parse(code).body:
            gap = lines[end:node.lineno - 1]  # from the previous statement to this one
            end = node.end_lineno
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                links = [l for l in gap if l.startswith('# Defined in')]
                assert len(links) == 1, f'{node.name} has {len(links)} back-links'
                chapter = re.fullmatch(r'# Defined in chapters/\d\d_(\w+)\.ipynb, section ".+"',
                                       links[0])
                assert chapter and chapter.group(1) == path.stem, links[0]


def test_a_modules_docstring_carries_its_chapters_title_whatever_it_holds(book):
    title = 'The "loss" $\\frac{1}{2}$'
    path = notebook(book / 'chapters', '01_a', '#@save\nA = 1', title=title)
    code = saved_modules([path])['a.py']
    assert ast.get_docstring(ast.parse(code)) == f'The code of chapters/01_a.ipynb, "{title}".'
