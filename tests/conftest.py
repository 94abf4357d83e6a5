import os
import sys
from pathlib import Path

# Before anything imports MXNet: all cores, and the profile the chapters run in.
os.environ.setdefault('OMP_NUM_THREADS', str(os.cpu_count() or 1))
os.environ.setdefault('D2LSTYLE_PROFILE', 'quick')
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # build.py
