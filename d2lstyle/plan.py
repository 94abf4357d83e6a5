"""The stages ``d2lstyle stylize --size L`` plans when it is given only the final size.

A pyramid, as benchmarks/time_to_quality.py found fastest to a good large picture: the first
stage at about ``FIRST_SIDE`` pixels, where an iteration is cheap and the composition forms;
then stages ``SCALE`` times larger, each with ``STEP_RATIO`` of the last one's iterations (at
least ``MIN_ITERATIONS``), so that every stage costs about the same time, until the final
size. Stages that fit in one tile take L-BFGS, which needs fewer evaluations than Adam to a
given loss (chapter 3); stages in tiles take Adam (``tiles``).
"""
import math
from dataclasses import dataclass

FIRST_SIDE = 300
SCALE = 2 ** 0.5
FIRST_ITERATIONS = 100
STEP_RATIO = 0.5
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
        iterations = max(MIN_ITERATIONS, round(FIRST_ITERATIONS * STEP_RATIO ** k))
        stages.append(Stage(side, iterations, 'adam' if tiled(side) else 'lbfgs'))
    return stages
