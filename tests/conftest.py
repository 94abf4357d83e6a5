import os
import sys
from pathlib import Path

# Before anything imports MXNet: all cores, and the profile the chapters run in.
os.environ.setdefault('OMP_NUM_THREADS', str(os.cpu_count() or 1))
os.environ.setdefault('D2LSTYLE_PROFILE', 'quick')
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # build.py

# How the tests build the real book: quick, and on two stand-in GPUs (d2lstyle.standin), so that
# an array or a network left on the default context fails as it would on a GPU. test_book.py and
# test_site.py share the executed chapters through build.py's cache.
BOOK_BUILD = ['build.py', '--profile', 'quick', '--stand-in-gpus', '2']
