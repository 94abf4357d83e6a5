"""The benchmarks (benchmarks/*.py) build their problem from the book's code, on one device."""
import sys

import mxnet as mx

from d2lstyle import standin, weights

ROOT = weights.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / 'benchmarks'))
import feed_forward  # noqa: E402
import optimizers  # noqa: E402
import style_step  # noqa: E402
import time_to_quality  # noqa: E402


def test_the_benchmarks_put_their_problem_on_one_device():
    with standin.installed(1):
        for row in ('chapter', 'hybridized'):
            assert style_step.mxnet_step(row, (48, 32), mx.gpu(0))() > 0
        found = optimizers.histories((48, 32), 3, mx.gpu(0))
        assert [len(found['adam']), len(found['lbfgs'])] == [3, 3]
        assert len(feed_forward.transform_seconds('starry_night', 1, mx.gpu(0))) == 1



def test_the_pytorch_row_takes_the_first_step_of_the_hybridized_one():
    import pytest
    pytest.importorskip('torch')
    first = style_step.mxnet_step('hybridized', (48, 32))()
    assert style_step.pytorch_step((48, 32))() == pytest.approx(first, rel=1e-4)


def test_the_torch_benchmark_times_chapter_1s_step_at_the_size_asked():
    import pytest
    torch = pytest.importorskip('torch')
    import torch_step
    net = weights.load_torch_vgg('vgg19')
    losses, X = torch_step.problem(net, (48, 32), torch.device('cpu'))
    assert X.shape == (1, 3, 32, 48)  # (width, height), as the chapters give image_shape
    first, _, seconds, peak = torch_step.time_row(losses['chapter'], X, 1)
    assert first > 0 and seconds > 0 and peak is None  # no allocator peak on a CPU

def test_a_pyramid_grows_by_the_square_root_of_two_up_to_the_final_size():
    sizes = time_to_quality.pyramid(5)
    assert sizes[-1] == 1.0 and len(sizes) == 5
    assert all(abs(b / a - 2 ** 0.5) < 1e-3 for a, b in zip(sizes, sizes[1:]))
    strategy = time_to_quality.Strategy('p', sizes, (5, 4, 3, 2, 1))
    assert strategy.argv(1200)[:6] == ['--size', '300', '424', '600', '849', '1200']


def test_the_reference_is_the_best_final_score_and_each_run_reaches_it_once():
    def point(seconds, style, texture, content):
        return dict(seconds=seconds, style=style, texture=texture, content=content)
    slow = {'points': [point(60, 0.9, 0.9, 0.4), point(600, 0.30, 0.30, 0.50)]}
    fast = {'points': [point(30, 0.8, 0.9, 0.4), point(90, 0.32, 0.31, 0.55),
                       point(200, 0.31, 0.30, 0.52)]}
    tinted = {'points': [point(10, 0.30, 0.95, 0.2)]}  # colour only: its texture gives it away
    pair = time_to_quality.summarise({'runs': [slow, fast, tinted]})
    assert pair['reference'] == slow['points'][-1]
    assert [r['seconds_to_reference'] for r in pair['runs']] == [600, 90, None]


def test_the_plan_strategy_runs_the_command_with_the_final_size_alone():
    from d2lstyle import plan
    strategy = time_to_quality.Strategy('plan')
    assert strategy.argv(1200) == ['--size', '1200']
    # tubingen.jpg (1024x768) at 1200 pixels: only its last stage is in tiles
    assert strategy.iterations(1200, (1024, 768)) == sum(
        s.iterations for s in plan.plan(1200, lambda side: side > 1000))


def test_the_shipped_networks_were_judged_at_print_size_on_photographs_they_never_saw():
    import json
    import shipped_models
    from d2lstyle import transfer
    stored = json.loads((ROOT / 'benchmarks' / 'shipped_models.json').read_text())
    assert stored['size'] == 1200 and set(stored['models']) == set(shipped_models.PAINTINGS)
    for name, result in stored['models'].items():
        record = json.loads((transfer.MODELS / f'{name}.json').read_text())
        assert not set(result['photos']) & set(record['data'])  # held out of training
        assert all(max(scores['shape']) == 1200 for scores in result['photos'].values())
        assert (shipped_models.FOLDER / f'tubingen_{name}.jpg').exists()
        assert 'optimisation' in result['photos'][shipped_models.OPTIMISED]


def test_chapter_6_reads_the_shipped_networks_table_as_it_stands():
    """What chapter 6 says about the stored table, checked against it."""
    import json
    models = json.loads((ROOT / 'benchmarks' / 'shipped_models.json').read_text())['models']
    tubingen = {name: result['photos']['tubingen.jpg'] for name, result in models.items()}
    for name, result in models.items():  # every network lowers the texture distance ...
        for photo, scores in result['photos'].items():
            assert scores[name]['texture'] < 1
            # ... and the style distance, but for the Great Wave's on Tübingen
            assert (scores[name]['style'] < 1) != (name == 'great_wave' and photo == 'tubingen.jpg')
    for scores in models['starry_night']['photos'].values():  # the retrained one is closer
        new, old = scores['starry_night'], scores['starry_night_instancenorm']
        assert new['style'] < old['style'] and new['texture'] < old['texture']
        assert new['content'] > old['content']
    gap = {name: {k: scores[name][k] - scores['optimisation'][k] for k in ('content', 'style', 'texture')}
           for name, scores in tubingen.items()}
    for name in ('the_scream', 'shipwreck'):  # close to the optimisation in every column
        assert all(abs(d) < 0.1 for d in gap[name].values()), name
    for name in ('starry_night', 'woman_with_hat'):  # well behind in style
        assert tubingen[name][name]['style'] > 3 * tubingen[name]['optimisation']['style']
        assert gap['great_wave']['style'] > gap[name]['style']  # the Great Wave's further still
