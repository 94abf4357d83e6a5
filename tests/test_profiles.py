"""d2lstyle.profiles: how long the chapters train, chosen by one environment variable."""
import pytest

from d2lstyle import D2lStyleError, profiles


def test_profiles_come_from_one_environment_variable(monkeypatch):
    monkeypatch.delenv(profiles.ENV_VAR, raising=False)
    assert profiles.current().name == 'quick'
    monkeypatch.setenv(profiles.ENV_VAR, 'full')
    full = profiles.current()
    assert full.name == 'full' and full.stages[-1].image_shape == (1200, 800)
    # each stage larger than the last, and (it refines an upscaled result) shorter
    for small, large in zip(full.stages, full.stages[1:]):
        assert small.image_shape < large.image_shape and small.num_steps > large.num_steps
    monkeypatch.setenv(profiles.ENV_VAR, 'fast')
    with pytest.raises(D2lStyleError, match="D2LSTYLE_PROFILE='fast'.*quick, full"):
        profiles.current()


def test_the_test_profile_is_quick_made_shorter():
    """What make test builds paints at quick's sizes (so the pages' effects stay the same), for
    fewer steps and evaluations."""
    quick, test = profiles.PROFILES['quick'], profiles.PROFILES['test']
    assert [s.image_shape for s in test.stages] == [s.image_shape for s in quick.stages]
    assert all(t.num_steps < q.num_steps for t, q in zip(test.stages, quick.stages))
    assert test.compare.image_shape == quick.compare.image_shape
    assert test.compare.num_steps < quick.compare.num_steps
    assert test.train.num_steps < quick.train.num_steps and test.train.crop == quick.train.crop
    assert test.clip == quick.clip
    # the learning rate still decays within the first stage, as in quick
    assert test.lr_decay_steps < test.stages[0].num_steps
