"""The book's configuration, ``book.toml`` at its root: what an instructor changes to make the
book theirs (title, course, authors, chapters and their order, profile, where it is published,
a logo). Without the file, a book has the default title and every chapter in chapters/."""
from dataclasses import dataclass, fields
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from builder import CHAPTERS, ROOT, BuildError
from d2lstyle.profiles import PROFILES as PROFILE_SETTINGS

CONFIG = 'book.toml'
PROFILES = tuple(PROFILE_SETTINGS)  # quick, full, test: defined with their settings in d2lstyle
LOGO_TYPES = ('.png', '.jpg', '.jpeg', '.svg')


@dataclass(frozen=True)
class Book:
    title: str = 'Neural Style Transfer with MXNet and PyTorch'
    course: str = ''          # a line under the title, for example the course's name and term
    authors: tuple = ()       # authors or instructors, shown under the title
    chapters: tuple = ()      # notebook names in chapters/, in reading order; () for all
    profile: str = 'quick'    # the profile a build uses unless told otherwise
    base_url: str = ''        # where the site will be published, for the publishing note
    logo: str = ''            # an image file, relative to the book's root, above the contents

    @property
    def byline(self):
        """The lines under the title: the course, then the authors, each if given."""
        return [line for line in (self.course, ', '.join(self.authors)) if line]


def load_book(root=ROOT):
    """The configuration of the book in ``root``, checked; the defaults without a book.toml."""
    path = Path(root) / CONFIG
    if not path.exists():
        return Book()
    try:
        data = tomllib.loads(path.read_text(encoding='utf-8'))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise BuildError(f'{path}: not valid TOML ({err}); fix that line') from None
    known = {f.name: f.type for f in fields(Book)}  # the types: str or tuple (of str)
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise BuildError(f'{path}: unknown setting {", ".join(map(repr, unknown))}; the '
                         f'settings are {", ".join(known)}')
    for name, value in data.items():
        if known[name] is tuple:
            if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
                raise BuildError(f'{path}: {name} must be a list of strings, for example '
                                 f'{name} = ["a", "b"]')
            data[name] = tuple(value)
        elif not isinstance(value, str):
            raise BuildError(f'{path}: {name} must be a string in quotes, not {value!r}')
    book = Book(**data)
    check(book, path)
    return book


def check(book, path):
    root = path.parent
    if not book.title.strip():
        raise BuildError(f'{path}: title is empty; give the book a title')
    if book.profile not in PROFILES:
        raise BuildError(f'{path}: profile {book.profile!r}; choose one of {", ".join(PROFILES)}')
    repeated = sorted({name for name in book.chapters if book.chapters.count(name) > 1})
    if repeated:
        raise BuildError(f'{path}: chapter {", ".join(map(repr, repeated))} is listed twice; '
                         'name each chapter once')
    have = sorted(p.stem for p in (root / CHAPTERS).glob('*.ipynb'))
    for name in book.chapters:
        if Path(name).stem not in have:
            raise BuildError(f'{path}: chapter {name!r} is not a notebook in {CHAPTERS}/ '
                             f'(there are: {", ".join(have) or "none"}); add the notebook or '
                             'correct the name')
    if book.logo:
        logo = root / book.logo
        if logo.suffix.lower() not in LOGO_TYPES or not logo.is_file():
            raise BuildError(f'{path}: logo {book.logo!r} is not a {"/".join(LOGO_TYPES)} file '
                             f'under {root}; give the path of an image, relative to the book')


def chapter_paths(book, root=ROOT):
    """The book's chapters in reading order: those book.toml lists, else every chapter."""
    folder = Path(root) / CHAPTERS
    if book.chapters:
        return [folder / f'{Path(name).stem}.ipynb' for name in book.chapters]
    return sorted(folder.glob('[0-9]*.ipynb'))
