"""The stages ``d2lstyle stylize --size L`` plans when it is given only the final size.

A pyramid: the first stage at about ``FIRST_SIDE`` pixels, where an iteration is cheap and the
composition forms, then stages ``SCALE`` times larger up to the final size. Each stage takes
1/SCALE^2 of the last one's iterations (at least ``MIN_ITERATIONS``), so that every stage costs
about the same time. Stages that fit in one tile take L-BFGS, which needs fewer evaluations
than Adam to a given loss (chapter 3); stages in tiles take Adam (chapter 3's
``TiledObjective``). benchmarks/time_to_quality.py measured this plan against a coarser
(SCALE = 2), a longer and a noise-started pyramid and against chapter 1's two stages; chapter
3, "A Good Large Picture Soon", shows what it found.
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


def sides(final):
    """Long sides from about FIRST_SIDE up to ``final``, each SCALE times the last."""
    count = max(1, round(math.log(max(final, FIRST_SIDE) / FIRST_SIDE, SCALE)) + 1)
    return [max(1, round(final / SCALE ** k)) for k in reversed(range(count))]


def plan(final, tiled):
    """The stages for a final long side ``final``; ``tiled(side)`` tells whether a stage of
    that long side is optimised in tiles."""
    stages = []
    for k, side in enumerate(sides(final)):
        iterations = max(MIN_ITERATIONS, round(FIRST_ITERATIONS / SCALE ** (2 * k)))
        stages.append(Stage(side, iterations, 'adam' if tiled(side) else 'lbfgs'))
    return stages
