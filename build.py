"""Build the book: save the chapters' ``#@save`` code, execute the chapters, render the site.

    python build.py [--profile quick|full|test] [--out DIR] [--jobs N] [--timeout S] [CHAPTER ...]
    python build.py --with-solutions  # the instructor's site, with the cells tagged "solution"
    python build.py --pdf             # also the whole book as one PDF (make pdf)
    python build.py --framework pytorch  # only the chapters' PyTorch tabs
    python build.py --save-only     # only regenerate d2lstyle/mxnet/, torch/, common/ and docs/
    python build.py --strip         # remove outputs from chapters/*.ipynb (before a commit)

A build first regenerates the packages ``d2lstyle/mxnet/`` and ``d2lstyle/torch/`` from the
``#@save`` cells of each framework's tab, a module per chapter (builder.package), so that the package the chapters import is the code they teach.
It then executes the chapters with nbclient (builder.execute), each framework's tab of a
chapter (builder.tabs: MXNet's, and PyTorch's where the chapter has one) in its own kernel running
this very Python with ``D2LSTYLE_PROFILE`` set to the profile, ``--jobs`` of them at a time,
each with its share of the cores.
A chapter runs again only when its cells, the ``#@save`` code of an earlier chapter (what it
can import), another module of ``d2lstyle/``, a file under ``img/``, a benchmark result
(``benchmarks/*.json``) or the profile changed; the executed notebooks are kept in
``_build/executed/<profile>/`` (``<profile>-pytorch/`` for PyTorch's tabs).
Finally nbconvert renders them into a static site (builder.render, builder.site; in
``_build/site/`` unless ``--out``): the chapters with a sidebar of contents and each page's
outline, a gallery of the book's results, the credits, and the notebooks and the helper
package to download. The build prints the time of each chapter, then the path of
``index.html`` on its last line. Every file is written to a temporary name and renamed, so an
interrupted build never leaves a truncated file that looks complete. Before any of that, a
folder the build cannot write in (``--out``, ``_build``) is refused in one line (exit 2), and
SIGTERM or SIGHUP stop a build as Ctrl-C does: the kernels are shut down, no half-written file
or cache entry is left, and the chapters that finished stay cached (exit 143 or 129).
"""
import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

from builder import BENCHMARKS, BUILD, CHAPTERS, PACKAGE, ROOT, BuildError
from builder.config import CONFIG, PROFILES, chapter_paths, load_book
from builder.execute import DEFAULT_TIMEOUT, execute_many, summary
from builder.docs import browser_table, memory_table, options_table, save_docs
from builder.notebooks import find_chapters, pages_of, strip
from builder.pdf import BOOK_PDF, render_pdf
from builder.package import COMMON, GENERATED, PACKAGES, save_all
from builder.site import render
from builder.tabs import FRAMEWORKS
from d2lstyle import D2lStyleError, signals
from d2lstyle.atomic import check_writable

def make_parser():
    parser = argparse.ArgumentParser(
        prog='build.py',
        description='Execute the chapters (cached) and render the book as a static site.')
    parser.add_argument('chapters', nargs='*', metavar='CHAPTER',
                        help='chapters to execute and render, by name, number or path '
                             '(default: all); the contents still list every chapter')
    parser.add_argument('--profile', choices=PROFILES, default=os.environ.get('D2LSTYLE_PROFILE'),
                        help='how long the chapters train (default: $D2LSTYLE_PROFILE, else '
                             f"{CONFIG}'s profile, else quick)")
    parser.add_argument('--out', type=Path,
                        help='site folder (default: _build/site, or _build/site-solutions)')
    parser.add_argument('--timeout', type=int, default=DEFAULT_TIMEOUT, metavar='SECONDS',
                        help='limit for each notebook as a whole, 0 for none '
                             f'(default: {DEFAULT_TIMEOUT})')
    parser.add_argument('--jobs', '-j', type=int, default=1, metavar='N',
                        help='chapters executed at the same time, each in its own kernel with '
                             'a 1/N share of the cores (default: 1)')
    parser.add_argument('--stand-in-gpus', type=int, default=0, metavar='N',
                        help='for tests: the kernels see N GPUs that are the contexts cpu(1) '
                             'to cpu(N), which catches arrays left on the wrong device')
    parser.add_argument('--pdf', action='store_true',
                        help=f'also print the chapters built into one PDF, {BOOK_PDF}, in the '
                             'site folder (with Chromium)')
    parser.add_argument('--with-solutions', action='store_true',
                        help='keep the cells tagged "solution" (the instructor\'s build; '
                             'default --out: _build/site-solutions)')
    parser.add_argument('--save-only', action='store_true',
                        help=f'only regenerate {PACKAGE}/{GENERATED}/, {PACKAGE}/'
                             f'{PACKAGES["pytorch"]}/ and {PACKAGE}/{COMMON}/ from the #@save '
                             "cells, and the user's guide's generated tables")
    parser.add_argument('--framework', choices=FRAMEWORKS, action='append', dest='frameworks',
                        help='execute and render only this framework\'s tabs (repeat for '
                             'several; default: every framework a chapter has)')
    parser.add_argument('--strip', action='store_true',
                        help='remove outputs and execution counts from the chapters in place')
    return parser


def parse(argv=None, root=ROOT):
    parser = make_parser()
    args = parser.parse_args(argv)
    args.out = args.out or Path(root) / BUILD / ('site-solutions' if args.with_solutions else 'site')
    if args.jobs < 1:
        parser.error(f'--jobs {args.jobs}: run at least one chapter at a time')
    if args.profile not in (*PROFILES, None):  # argparse checks choices given, not the default
        parser.error(f'D2LSTYLE_PROFILE={args.profile!r}: choose one of {", ".join(PROFILES)}')
    return args


def guide_sections(root=ROOT):
    """What the generated sections of the user's guide and the README hold (builder.docs): each
    command's options, from the parsers of d2lstyle and of this program, the stored memory
    peaks and the Try-it page's times."""
    from d2lstyle.cli import make_parser as command_parser  # argparse only: no framework
    commands = next(a for a in command_parser()._actions
                    if isinstance(a, argparse._SubParsersAction))
    sections = {f'options {name}': options_table(sub) for name, sub in commands.choices.items()}
    sections['options build.py'] = options_table(make_parser())
    if (Path(root) / BENCHMARKS / 'memory.json').exists():
        sections['memory'] = memory_table(root)
    if (Path(root) / BENCHMARKS / 'browser.json').exists():
        sections['browser'] = browser_table(root)
    return sections


def strip_all(paths):
    for path in paths:
        if strip(path):
            print(f'stripped {path.name}')


def build(args, root=ROOT):
    """Run what ``args`` ask for on the book in ``root``; the site's index.html, if any."""
    start = time.monotonic()
    book = load_book(root)
    everything = find_chapters(folder=Path(root) / CHAPTERS)  # the package has all their code
    listed = chapter_paths(book, root)
    paths = find_chapters(args.chapters, Path(root) / CHAPTERS, order=listed)
    profile = args.profile or book.profile
    if args.strip:
        strip_all(paths)
    for path in save_all(everything, root):
        done = 'wrote' if path.exists() else 'removed'
        print(f'{done} {path.relative_to(root).as_posix()}', flush=True)
    for path in save_docs(lambda: guide_sections(root), root):
        print(f'wrote {path.relative_to(root).as_posix()}', flush=True)
    if args.save_only or args.strip:
        return None
    check_writable(Path(root) / BUILD, f'the build cache {BUILD}')
    check_writable(args.out, f'--out {args.out}')
    runs = asyncio.run(execute_many(paths, profile, None, args.timeout, root, args.jobs,
                                    args.stand_in_gpus, args.with_solutions,
                                    args.frameworks or FRAMEWORKS))
    rendering = time.monotonic()
    pages = pages_of(listed)
    index = render(runs, args.out, pages, root, book, args.with_solutions, args.pdf)
    if args.pdf:
        titles = dict(pages)
        render_pdf([(r.path.stem, titles[r.path.stem], r.nb, r.path) for r in runs
                    if r.framework == FRAMEWORKS[0]], book, profile, args.out)  # MXNet's tab
    now = time.monotonic()
    print(summary(runs, now - rendering, now - start), flush=True)
    print(publishing(args.out, book))
    return index.resolve()


def publishing(out, book):
    """How to publish the site, in one line."""
    where = f' at {book.base_url}' if book.base_url else ''
    return (f'to publish: copy the folder {out} as it is to a static web host{where}; every link '
            'in it is relative, so it works under any address and in any subfolder')


def main(argv=None, root=ROOT):
    args = parse(argv, root)
    try:
        with signals.stop_at_once():
            index = build(args, root)
    except BuildError as err:
        sys.exit(f'build.py: {err}')
    except D2lStyleError as err:
        print(f'build.py: error: {err}', file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt as stop:  # Ctrl-C, SIGTERM or SIGHUP
        number = signals.signum(stop)
        print(f'build.py: {signals.status(number)}; the chapters that finished stay cached',
              file=sys.stderr)
        sys.exit(signals.exit_code(number))
    if index:
        print(index)


if __name__ == '__main__':
    main()
