"""Profiles: how long the chapters train. Read from one place, $D2LSTYLE_PROFILE.

``quick`` (the default) runs every chapter on a 2-core CPU in minutes and still shows the
effect; ``full`` paints up to 1200x800 and is the site an instructor publishes; ``test`` is what
``make test`` builds, both tabs of every chapter: each cell runs and each effect the tests check
still shows, in half of quick's time.
``python build.py --profile full`` sets the variable for every notebook.
"""
import os
from dataclasses import dataclass

from . import D2lStyleError

ENV_VAR = 'D2LSTYLE_PROFILE'


@dataclass(frozen=True)
class Stage:
    image_shape: tuple   # (width, height)
    num_steps: int


@dataclass(frozen=True)
class Training:
    crop: int            # square training crops, pixels
    batch_size: int
    num_steps: int
    width: int           # channels of the transform network's first layer


@dataclass(frozen=True)
class Clip:
    frame_shape: tuple   # (width, height)
    num_frames: int


@dataclass(frozen=True)
class Profile:
    name: str
    stages: tuple        # progressive upscaling: each stage starts from the last result
    compare: Stage       # one problem, solved many ways, in the comparison chapters
    control: Stage       # chapter 5's runs: L-BFGS evaluations from the photograph
    train: Training      # the transform network of chapter 6
    clip: Clip           # the video of chapter 7
    lr: float = 0.3
    lr_decay_steps: int = 50


PROFILES = {
    # 40% of full's steps at 300x200 and 600x400 (the picture stays close to full's at that
    # size) and comparisons of 40 evaluations, so that the whole book builds in 15 minutes on
    # a 2-core CPU (with 100 and 30 steps and 50 evaluations it took 990 s)
    'quick': Profile('quick', (Stage((300, 200), 80), Stage((600, 400), 20)),
                     compare=Stage((150, 100), 40), control=Stage((300, 200), 40),
                     train=Training(64, 2, 100, 16),
                     clip=Clip((320, 212), 24)),
    # chapter 1's stages at full length, then a third at 1200x800 (an enlarged result needs
    # few steps there; one of chapter 1's steps takes about 17 s at that size on a 2-core
    # CPU), comparisons at 192x128 (at 240x160 chapters 3 and 4 took 14 minutes each and the
    # book over an hour), and a short training run: chapter 6 loads the shipped network
    'full': Profile('full', (Stage((300, 200), 200), Stage((600, 400), 60),
                             Stage((1200, 800), 20)),
                    compare=Stage((192, 128), 100), control=Stage((600, 400), 100),
                    train=Training(128, 4, 100, 16),
                    clip=Clip((640, 424), 48)),
    # quick's sizes with fewer steps and evaluations, so that the tests execute every cell of
    # both tabs inside CI's time; quick's clip (with 12 frames chapter 7's motion estimate was
    # off by 1.13 px, against under 1 px with 24); its pages are checked, never published
    'test': Profile('test', (Stage((300, 200), 30), Stage((600, 400), 5)),
                    compare=Stage((150, 100), 20), control=Stage((300, 200), 20),
                    train=Training(64, 2, 40, 16),
                    clip=Clip((320, 212), 24), lr_decay_steps=20),
}


def current():
    """The profile named by $D2LSTYLE_PROFILE (default ``quick``)."""
    name = os.environ.get(ENV_VAR, 'quick')
    if name not in PROFILES:
        raise D2lStyleError(f'{ENV_VAR}={name!r} is not a profile: use one of '
                            f'{", ".join(PROFILES)}')
    return PROFILES[name]
