"""The front door (builder.docs): a short README with the book's own picture and commands that
exist as written, a user's guide whose option tables are the parsers' own, and the guide as a
page of the site."""
import argparse
import re
import shlex
from pathlib import Path

import pytest

import build
from builder import docs
from conftest import notebook
from d2lstyle import cli

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / 'README.md'
GUIDE = ROOT / docs.DOCS / docs.GUIDE


def parsers():
    """Each command's parser, by name, and build.py's."""
    commands = next(a for a in cli.make_parser()._actions
                    if isinstance(a, argparse._SubParsersAction))
    return {**commands.choices, 'build.py': build.make_parser()}


def test_the_readme_is_short_and_leads_with_the_books_own_picture():
    text = README.read_text()
    assert len(text.splitlines()) < 150
    first_image = re.search(r'!\[[^\]]+\]\(([^)]+)\)', text)
    assert first_image and first_image.group(1) == f'{docs.DOCS}/{docs.PICTURE}'
    assert text.index('![') < text.index('## ')  # before any section
    # made from the stored run, not drawn by hand: the build makes the same bytes again
    assert (ROOT / first_image.group(1)).read_bytes() == docs.picture(ROOT)


def readme_commands():
    blocks = re.findall(r'```bash\n(.*?)```', README.read_text(), re.S)
    lines = ' '.join(blocks).replace('\\\n', ' ').splitlines()
    return [shlex.split(line.split('#')[0]) for line in lines if line.split('#')[0].strip()]


def test_every_readme_command_exists_as_written():
    commands = readme_commands()
    assert [c for c in commands if c[0] == 'make'] == [['make', 'book'], ['make', 'test']]
    targets = re.findall(r'^([a-z]+):', (ROOT / 'Makefile').read_text(), re.M)
    assert {'book', 'test'} <= set(targets)
    ours = [c[1:] for c in commands if c[0] == '.venv/bin/d2lstyle']
    assert [c[0] for c in ours] == ['stylize', 'transform', 'transform', 'stylize']
    for argv in ours:
        args = cli.make_parser().parse_args(argv)  # exits on an option that is not there
        inputs = ([args.content, *[p for p in args.styles if str(p) != 'none'],
                   *(args.mask or [])] if argv[0] == 'stylize' else [args.input])
        assert all((ROOT / p).exists() for p in inputs), argv
        model = getattr(args, 'model', None)
        assert model is None or (ROOT / 'd2lstyle' / 'models' / f'{model}.json').exists()


def test_the_guides_and_readmes_tables_are_what_the_build_writes():
    text = GUIDE.read_text()
    sections = build.guide_sections(ROOT)
    readme = set(re.findall(r'<!-- generated: (.+?) -->', README.read_text()))
    assert set(re.findall(r'<!-- generated: (.+?) -->', text)) | readme == set(sections)
    assert docs.fill(text, sections, GUIDE) == text, 'run python build.py --save-only'
    assert docs.fill(README.read_text(), sections, README) == README.read_text()


def test_every_option_is_in_the_guide_with_its_meaning():
    text = GUIDE.read_text()
    for name, parser in parsers().items():
        for action in parser._actions:
            if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
                continue
            assert action.help, f'{name} {action.option_strings or action.dest}: no help'
            for option in action.option_strings:
                assert re.search(rf'`[^`]*{re.escape(option)}\b', text), f'{name} {option}'


def test_a_section_the_build_does_not_know_is_refused(tmp_path):
    guide = tmp_path / 'guide.md'
    with pytest.raises(docs.BuildError, match="'nope'"):
        docs.fill('<!-- generated: nope -->\n<!-- end generated -->\n', {'memory': ''}, guide)


def test_the_guide_is_a_page_of_the_site_linked_from_every_page(book, capsys):
    notebook(book / 'chapters', '01_a', 'print(1)', title='First')
    (book / docs.DOCS).mkdir()
    (book / docs.DOCS / docs.GUIDE).write_text('# User\'s guide\n\nHow to run it.\n')
    build.main(['--out', str(book / 'site')], root=book)
    page = (book / 'site' / 'guide.html').read_text()
    assert '<h1' in page and 'How to run it.' in page and 'class="d2l-sidebar"' in page
    for linking in ('index.html', '01_a.html'):
        assert 'href="guide.html"' in (book / 'site' / linking).read_text(), linking
