"""The stages that d2lstyle stylize plans for a final size alone (d2lstyle.plan)."""
import pytest

from d2lstyle import cli, plan


def test_the_pyramid_grows_by_its_scale_from_the_first_side_up_to_the_final_size():
    assert plan.sides(1200) == [300, 424, 600, 849, 1200]
    assert plan.sides(2400)[0] == 300 and plan.sides(2400)[-1] == 2400
    for final in (500, 1000, 1200, 3000):
        sides = plan.sides(final)
        assert sides[-1] == final
        assert plan.FIRST_SIDE / plan.SCALE ** 0.5 <= sides[0] <= plan.FIRST_SIDE * plan.SCALE ** 0.5
        assert all(abs(b / a - plan.SCALE) < 0.01 for a, b in zip(sides, sides[1:]))


@pytest.mark.parametrize('final', [64, 200, 300])
def test_a_final_size_at_or_below_the_first_stage_is_one_stage(final):
    assert plan.plan(final, tiled=lambda side: False) == [
        plan.Stage(final, plan.FIRST_ITERATIONS, 'lbfgs')]


def test_the_stages_before_the_last_cost_about_the_same_and_the_last_takes_the_most():
    stages = plan.plan(1200, tiled=lambda side: False)
    assert [s.optimizer for s in stages] == ['lbfgs'] * 5
    assert [s.iterations for s in stages] == [100, 50, 25, 12, plan.FINAL_ITERATIONS]
    counts = [s.iterations for s in stages[:-1]]
    assert counts == sorted(counts, reverse=True) and min(counts) >= plan.MIN_ITERATIONS
    costs = [s.iterations * s.size ** 2 for s in stages]
    assert max(costs[:-2]) / min(costs[:-2]) < 1.1
    assert costs[-1] > sum(costs[:-1])  # the loss that counts is the final size's
    tiled = plan.plan(1200, tiled=lambda side: side > 1000)
    assert (tiled[-1].optimizer, tiled[-1].fallback) == ('adam', 'lbfgs')


def test_a_stage_in_tiles_falls_back_to_lbfgs_only_where_its_state_fits():
    stages = plan.plan(2400, tiled=lambda side: side > 1000, lbfgs_fits=lambda side: side < 2000)
    assert [(s.size, s.optimizer, s.fallback) for s in stages if s.size > 1000] == [
        (1200, 'adam', 'lbfgs'), (1697, 'adam', 'lbfgs'), (2400, 'adam', None)]
    assert all(s.fallback is None for s in stages if s.size <= 1000)


def parsed(*argv):
    args = cli.make_parser().parse_args(['stylize', 'c.jpg', 's.jpg', '-o', 'o.png', *argv])
    cli.check_stylize(args)
    return args


def test_only_a_final_size_alone_is_planned():
    assert parsed('--size', '1200').planned
    assert not parsed('--size', '1200', '--iterations', '50').planned
    assert not parsed('--size', '300', '1200').planned
    assert not parsed().planned  # the default: two stages, 300 and 600
