"""The stages ``d2lstyle stylize --size L`` plans when it is given only the final size.

A pyramid: the first stage at about ``FIRST_SIDE`` pixels, where an iteration is cheap and the
composition forms, then stages ``SCALE`` times larger up to the final size. Each stage takes
1/SCALE^2 of the last one's iterations (at least ``MIN_ITERATIONS``), so that every stage costs
about the same time. Stages that fit in one tile take L-BFGS, which needs fewer evaluations
than Adam to a given loss (chapter 3). Stages in tiles (chapter 3's ``TiledObjective``) take
Adam, whose large first steps paint the fine texture that an enlarged start lacks, with L-BFGS
as the fallback: where Adam's first step raises the loss, the start is already near what
Adam's step size can reach, and L-BFGS, which scales its steps by the curvature, goes on from
the start with the stage's remaining iterations. benchmarks/time_to_quality.py measured this
plan against a coarser (SCALE = 2), a longer and a noise-started pyramid and against chapter
1's two stages; chapter 3, "A Good Large Picture Soon", shows what it found.
"""
import math
from dataclasses import dataclass

FIRST_SIDE = 300
SCALE = 2 ** 0.5
FIRST_ITERATIONS = 100
MIN_ITERATIONS = 10


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
    for k, side in enumerate(sides(final)):
        iterations = max(MIN_ITERATIONS, round(FIRST_ITERATIONS / SCALE ** (2 * k)))
        if not tiled(side):
            stages.append(Stage(side, iterations, 'lbfgs'))
        else:
            stages.append(Stage(side, iterations, 'adam', 'lbfgs' if lbfgs_fits(side) else None))
    return stages
