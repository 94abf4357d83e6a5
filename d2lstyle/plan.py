"""The stages ``d2lstyle stylize --size L`` plans when it is given only the final size.

A pyramid: the first stage at about ``FIRST_SIDE`` pixels, where an iteration is cheap and the
composition forms, then stages ``SCALE`` times larger up to the final size. Each stage before
the last takes 1/SCALE^2 of the previous stage's iterations (at least ``MIN_ITERATIONS``), so
that every such stage costs about the same time. The last stage takes ``FINAL_ITERATIONS``: the
loss that counts is the one at the final size, and an enlarged start is far from it there (its
content above all), so that is where most of the time goes: as many evaluations as brought a
1200-pixel run within 1.10 times the loss of a long run on every pair measured
(benchmarks/time_to_quality.json). Stages that fit in memory whole take L-BFGS, which needs
fewer evaluations than Adam to a given loss (chapter 3). Stages in tiles (chapter 3's
``TiledObjective``) take Adam, with L-BFGS as the fallback: where Adam's first step raises the
loss, L-BFGS, which scales its steps by the curvature, goes on from the start with the stage's
remaining iterations. benchmarks/time_to_quality.py measures the plan against a long run of the
same loss; chapter 3, "A Good Large Picture Soon", shows what it found.
"""
import math
from dataclasses import dataclass

FIRST_SIDE = 300
SCALE = 2 ** 0.5
FIRST_ITERATIONS = 100
MIN_ITERATIONS = 10
FINAL_ITERATIONS = 100


@dataclass(frozen=True)
class Stage:
    size: int         # long side, pixels
    iterations: int
    optimizer: str    # 'adam' or 'lbfgs'
    fallback: str = None  # 'lbfgs': taken from the stage's start if Adam's first step fails


def sides(final):
    """Long sides from about FIRST_SIDE up to ``final``, each SCALE times the last."""
    count = max(1, round(math.log(max(final, FIRST_SIDE) / FIRST_SIDE, SCALE)) + 1)
    return [max(1, round(final / SCALE ** k)) for k in reversed(range(count))]


def plan(final, tiled, lbfgs_fits=lambda side: True):
    """The stages for a final long side ``final``; ``tiled(side)`` tells whether a stage of
    that long side is optimised in tiles, ``lbfgs_fits(side)`` whether L-BFGS's whole-image
    state fits in memory there (else a stage in tiles has no fallback)."""
    stages = []
    planned = sides(final)
    for k, side in enumerate(planned):
        iterations = max(MIN_ITERATIONS, round(FIRST_ITERATIONS / SCALE ** (2 * k)))
        if k == len(planned) - 1 and k > 0:
            iterations = FINAL_ITERATIONS
        if not tiled(side):
            stages.append(Stage(side, iterations, 'lbfgs'))
        else:
            stages.append(Stage(side, iterations, 'adam', 'lbfgs' if lbfgs_fits(side) else None))
    return stages
