"""d2lstyle.profiles: how long the chapters train, chosen by one environment variable."""
import pytest

from d2lstyle import D2lStyleError, profiles


def test_profiles_come_from_one_environment_variable(monkeypatch):
    monkeypatch.delenv(profiles.ENV_VAR, raising=False)
    assert profiles.current().name == 'quick'
    monkeypatch.setenv(profiles.ENV_VAR, 'full')
    full = profiles.current()
    assert [s.image_shape for s in full.stages] == [(300, 200), (1200, 800)]
    assert [s.num_steps for s in full.stages] == [500, 300]
    monkeypatch.setenv(profiles.ENV_VAR, 'fast')
    with pytest.raises(D2lStyleError, match="D2LSTYLE_PROFILE='fast'.*quick, full"):
        profiles.current()
