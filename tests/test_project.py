"""The set-up files agree with each other: what the README promises is what CI and conda run."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def pins(lines):
    return dict(re.match(r'\s*-?\s*([A-Za-z0-9_.-]+)==(\S+)', line).groups()
                for line in lines if re.match(r'\s*-?\s*[A-Za-z0-9_.-]+==', line))


def test_environment_yml_mirrors_requirements():
    requirements = pins((ROOT / 'requirements.txt').read_text().splitlines())
    conda = pins((ROOT / 'environment.yml').read_text().splitlines())
    assert requirements and conda == requirements
    assert 'python=3.11' in (ROOT / 'environment.yml').read_text()


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / 'README.md').read_text()
    first_block = readme.split('```')[1]
    assert 'make book' in first_block and 'make test' in first_block
    ci = [line for line in (ROOT / '.ci' / 'run').read_text().splitlines()
          if line and not line.startswith(('#', 'set ', 'cd '))]
    assert ci == ['make test']


def test_every_image_is_credited():
    credits = (ROOT / 'img' / 'CREDITS.md').read_text()
    for image in (ROOT / 'img').glob('*.jpg'):
        assert image.name in credits, image.name
