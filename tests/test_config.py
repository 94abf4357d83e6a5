"""book.toml (builder.config): an instructor's title, course, authors, chapters and their order,
profile and logo; the defaults reproduce the book; every bad setting refused in one line."""
import io
import re
import zipfile

import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell

import build
from builder import BuildError
from builder.config import Book, chapter_paths, load_book
from builder.notebooks import find_chapters
from builder.site import BOOK_FOLDER, BOOK_ZIP
from conftest import notebook

ROOT = build.ROOT


def test_the_shipped_configuration_is_the_default_book():
    book = load_book(ROOT)
    assert book.title == Book().title and book.profile == 'quick' and not book.logo
    assert chapter_paths(book, ROOT) == find_chapters()  # every chapter, in the order of names


def course_book(book):
    """Three chapters in chapters/, and a book.toml that reorders them and drops one."""
    for name, title in [('01_a', 'First'), ('02_b', 'Second'), ('03_extra', 'An extra chapter')]:
        notebook(book / 'chapters', name, f'print("{name} ran")',
                 new_markdown_cell(f'See [the first](01_a.ipynb#{name}).'), title=title)
    (book / 'book.toml').write_text(
        'title = "Style Transfer for CS 101"\ncourse = "CS 101, spring 2027"\n'
        'authors = ["A. Teacher", "B. Assistant"]\nchapters = ["03_extra", "01_a"]\n'
        'logo = "img/dot.png"\nbase_url = "https://example.edu/cs101/"\n')
    return book


def test_a_course_builds_its_own_title_chapters_order_and_download(book, capsys):
    course_book(book)
    build.main(['--out', str(book / 'site')], root=book)
    assert 'static web host at https://example.edu/cs101/;' in capsys.readouterr().out
    site = book / 'site'
    index = (site / 'index.html').read_text()
    assert '<title>Style Transfer for CS 101</title>' in index
    assert 'CS 101, spring 2027' in index and 'A. Teacher, B. Assistant' in index
    assert 'class="d2l-logo" src="data:image/png;base64,' in index
    listed = re.findall(r'<ol class="d2l-toc">(.*?)</ol>', index, re.S)[0]
    assert re.findall(r'href="(\w+)\.html"', listed) == ['03_extra', '01_a']
    assert not (site / '02_b.html').exists()  # dropped: not executed, not rendered
    extra = (site / '03_extra.html').read_text()
    assert 'Style Transfer for CS 101' in extra and '03_extra ran' in extra
    assert 'href="01_a.html#03_extra"' in extra  # a link to a chapter goes to its page
    assert re.search(r'<a href="01_a.html" rel="next">', extra)
    names = zipfile.ZipFile(io.BytesIO((site / BOOK_ZIP).read_bytes())).namelist()
    chapters = sorted(n for n in names if n.startswith(f'{BOOK_FOLDER}/chapters/'))
    assert chapters == [f'{BOOK_FOLDER}/chapters/01_a.ipynb', f'{BOOK_FOLDER}/chapters/03_extra.ipynb']
    assert f'{BOOK_FOLDER}/book.toml' in names


def test_the_profile_comes_from_the_configuration_unless_told(book, monkeypatch):
    monkeypatch.delenv('D2LSTYLE_PROFILE', raising=False)
    notebook(book / 'chapters', '01_a', 'import os\nprint("profile", os.environ["D2LSTYLE_PROFILE"])')
    (book / 'book.toml').write_text('profile = "full"\n')
    build.main(['--out', str(book / 'site')], root=book)
    assert 'profile full' in (book / 'site' / '01_a.html').read_text()
    build.main(['--out', str(book / 'site'), '--profile', 'quick'], root=book)
    assert 'profile quick' in (book / 'site' / '01_a.html').read_text()


@pytest.mark.parametrize('text, words', [
    ('title = "A\n', ['not valid TOML', 'line 1']),
    ('titel = "A"\n', ["unknown setting 'titel'", 'the settings are title']),
    ('title = 3\n', ['title must be a string']),
    ('title = " "\n', ['title is empty']),
    ('authors = "A. Teacher"\n', ['authors must be a list of strings']),
    ('profile = "long"\n', ["profile 'long'", 'quick, full']),
    ('chapters = ["01_a", "09_missing"]\n', ["chapter '09_missing' is not a notebook",
                                            'there are: 01_a']),
    ('chapters = ["01_a", "01_a"]\n', ["chapter '01_a' is listed twice"]),
    ('logo = "img/none.png"\n', ["logo 'img/none.png'", 'relative to the book']),
    ('logo = "img/CREDITS.md"\n', ["logo 'img/CREDITS.md'"]),
])
def test_a_bad_configuration_is_refused_in_one_line_and_builds_nothing(book, capsys, text, words):
    notebook(book / 'chapters', '01_a', 'print(1)')
    (book / 'book.toml').write_text(text)
    with pytest.raises(BuildError) as caught:
        load_book(book)
    message = str(caught.value)
    assert message.startswith(f'{book / "book.toml"}: ') and '\n' not in message, message
    for word in words:
        assert word in message, message
    with pytest.raises(SystemExit) as exited:
        build.main(['--out', str(book / 'site')], root=book)
    assert str(exited.value) == f'build.py: {message}'
    assert not (book / 'site').exists()


def test_a_chapter_asked_for_must_be_in_the_book(book):
    course_book(book)
    with pytest.raises(SystemExit) as exited:
        build.main(['--out', str(book / 'site'), '02_b'], root=book)
    assert "no chapter '02_b' among the book's chapters" in str(exited.value)
    assert '03_extra, 01_a' in str(exited.value)


def test_solutions_are_left_out_for_students_and_kept_for_the_instructor(book):
    solution = {'tags': ['solution']}
    notebook(book / 'chapters', '01_a', 'print("taught")',
             new_markdown_cell('## Exercises\n\n1. What is 6 x 7?'),
             new_markdown_cell('The answer: SECRET-PROSE.', metadata=solution),
             new_code_cell('print("SECRET-" + "OUTPUT")', metadata=solution))
    build.main([], root=book)
    students = book / '_build' / 'site'
    for text in [(students / '01_a.html').read_text(), (students / '01_a.ipynb').read_text(),
                 zipfile.ZipFile(students / BOOK_ZIP).read(f'{BOOK_FOLDER}/chapters/01_a.ipynb').decode()]:
        assert 'taught' in text and 'SECRET' not in text
    build.main(['--with-solutions'], root=book)
    teachers = book / '_build' / 'site-solutions'
    page = (teachers / '01_a.html').read_text()
    assert 'SECRET-PROSE' in page and 'SECRET-OUTPUT' in page  # the solution's code ran
    assert 'celltag_solution' in page
    assert 'SECRET-PROSE' in (teachers / '01_a.ipynb').read_text()
    assert 'SECRET' not in (students / '01_a.html').read_text()  # the students' site untouched
