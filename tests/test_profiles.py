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
