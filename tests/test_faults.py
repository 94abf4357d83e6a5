"""When the machine says no: a read-only folder, a full disk and SIGTERM, caused for real (a
tmpfs mounted read-only or too small, a signal sent to a running command), not mocked. Each
gives one line, the documented exit status, and keeps what was computed."""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import notebook
from d2lstyle import cli, clips, frameworks, signals
from d2lstyle.atomic import EXIT_KEPT, kept_path

ROOT = Path(__file__).resolve().parents[1]
CONTENT, STYLE = ROOT / 'img' / 'tubingen.jpg', ROOT / 'img' / 'starry_night.jpg'
TINY = ['--size', '64', '--iterations', '2']


@pytest.fixture
def mount(tmp_path):
    """mount(options): a tmpfs at a new folder of tmp_path, e.g. 'ro' or 'size=4k'; skipped
    where this process may not mount (not root, or in a container without the right)."""
    mounted = []

    def make(options):
        folder = tmp_path / f'mount{len(mounted)}'
        folder.mkdir()
        done = subprocess.run(['mount', '-t', 'tmpfs', '-o', options, 'tmpfs', str(folder)],
                              capture_output=True, text=True)
        if done.returncode:
            pytest.skip(f'cannot mount a tmpfs here ({done.stderr.strip() or "not root"}); '
                        'run the tests as root to cause these faults for real')
        mounted.append(folder)
        return folder
    yield make
    for folder in mounted:
        subprocess.run(['umount', str(folder)], check=False)


@pytest.fixture
def commands_not_loaded(monkeypatch):
    """The commands' modules cannot be imported: a refusal must come before any work."""
    for name in ('d2lstyle.stylize', 'd2lstyle.transfer'):
        monkeypatch.setitem(sys.modules, name, None)


def one_line(capsys, *words):
    err = capsys.readouterr().err.strip()
    assert '\n' not in err and 'Traceback' not in err, err
    for word in words:
        assert str(word) in err, err
    return err


# ---- check before the work -----------------------------------------------------------------

def test_a_read_only_folder_is_refused_before_any_work(mount, tmp_path, capsys,
                                                       commands_not_loaded):
    ro = mount('ro')
    clip = tmp_path / 'clip.mp4'
    clips.write_video(clip, [np.zeros((64, 64, 3), np.uint8)] * 3, 5)
    for argv in (['stylize', str(CONTENT), str(STYLE), '-o', str(ro / 'out.png'), *TINY],
                 ['stylize', str(CONTENT), str(STYLE), '-o', str(ro / 'new' / 'out.png')],
                 ['transform', '--model', 'starry_night', str(CONTENT), str(ro / 'out.png')],
                 ['transform', '--model', 'starry_night', str(clip), str(ro / 'out.mp4')],
                 ['train', str(STYLE), '-o', str(ro / 'model')]):
        assert cli.main(argv) == 2, argv
        one_line(capsys, 'd2lstyle: error:', f'cannot write in {ro}', 'Read-only file system')
    assert list(ro.iterdir()) == []


def test_a_folder_in_the_way_of_a_file_is_refused(tmp_path, capsys, commands_not_loaded):
    (tmp_path / 'file').write_text('not a folder')
    assert cli.main(['stylize', str(CONTENT), str(STYLE), '-o',
                     str(tmp_path / 'file' / 'out.png')]) == 2
    one_line(capsys, f'{tmp_path / "file"} is a file, not a folder')


def test_the_build_refuses_a_read_only_out_before_running_a_chapter(mount, book, capsys):
    import build
    ro = mount('ro')
    notebook(book / 'chapters', '01', 'raise ValueError("executed: the refusal came too late")')
    with pytest.raises(SystemExit) as stop:
        build.main(['--out', str(ro / 'site')], root=book)
    assert stop.value.code == 2
    one_line(capsys, 'build.py: error: --out', 'Read-only file system')


# ---- fail late, keep the work ----------------------------------------------------------------

def kept(*names):
    return [kept_path(name) for name in names]


@pytest.fixture
def cleanup_kept():
    yield
    for path in Path(tempfile.gettempdir()).glob(f'd2lstyle-{os.getpid()}-*'):
        shutil.rmtree(path) if path.is_dir() else path.unlink()


def test_stylize_on_a_full_disk_keeps_the_picture_and_record_elsewhere(mount, capsys,
                                                                      cleanup_kept):
    full = mount('size=4k')  # room for a folder entry, not for the picture
    out = full / 'out.png'
    assert cli.main(['stylize', str(CONTENT), str(STYLE), '-o', str(out), *TINY,
                     '--save-every', '1']) == EXIT_KEPT
    err = capsys.readouterr().err
    assert err.count('could not write the snapshot') == 1  # once, and the run went on
    picture, record = kept('out.png', 'out.json')
    assert err.strip().splitlines()[-1] == (
        f'd2lstyle: error: could not write {out} (No space left on device); '
        f'kept {picture} and {record} instead')
    assert Image.open(picture).size == (64, 48)
    saved = json.loads(record.read_text())
    assert saved['status'] == 'done' and saved['output'] == str(picture)
    assert len(saved['losses']) == 2
    assert not list(full.glob('.*.part'))  # nothing half-written where it failed


def test_transform_on_a_full_disk_keeps_the_picture_elsewhere(mount, capsys, cleanup_kept):
    full = mount('size=4k')
    out = full / 'out.png'
    assert cli.main(['transform', '--model', 'starry_night', str(CONTENT), str(out)]) == EXIT_KEPT
    (picture,) = kept('out.png')
    one_line(capsys, f'could not write {out}', f'kept {picture} instead')
    assert Image.open(picture).size == Image.open(CONTENT).size
    assert not list(full.iterdir())


# the reason each framework gives for an export that did not fit
FULL = {'mxnet': 'FileStream.Write incomplete', 'pytorch': 'No space left on device'}


@pytest.mark.parametrize('framework', frameworks.NAMES)
def test_train_on_a_full_disk_goes_on_and_keeps_the_network_elsewhere(mount, capsys,
                                                                      cleanup_kept, framework):
    full = mount('size=16k')  # settings.json fits, a checkpoint does not
    prefix = full / 'model'
    assert cli.main(['train', str(STYLE), '-o', str(prefix), '--iterations', '3',
                     '--save-every', '1', '--crop', '64', '--batch-size', '1',
                     '--width', '4', '--framework', framework]) == EXIT_KEPT
    out, err = capsys.readouterr()
    assert (out + err).count('could not save a checkpoint') == 1  # once, and training went on
    symbol, params, record = kept('model-symbol.json', 'model-0000.params', 'model.json')
    assert err.strip().splitlines()[-1] == (
        f'd2lstyle: error: could not write {prefix} ({FULL[framework]}); kept '
        f'{symbol} and {params} and {record} instead')
    assert symbol.exists() and params.exists()
    saved = json.loads(record.read_text())
    assert saved['status'] == 'done' and saved['iterations'] == 3
    assert set(saved['files']) == {symbol.name, params.name}
    assert not list(full.glob('model-*'))  # no half-written network where it failed


# ---- SIGTERM as Ctrl-C -------------------------------------------------------------------------

def start(argv, tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, '-m', 'd2lstyle', *map(str, argv)], env=env,
                            stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    err = []
    threading.Thread(target=lambda: err.extend(proc.stderr), daemon=True).start()
    return proc, err


def wait_for(test, what, seconds=180):
    deadline = time.time() + seconds
    while not test():
        assert time.time() < deadline, f'waited {seconds} s for {what}'
        time.sleep(0.2)


@pytest.mark.parametrize('number, code', [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_sigterm_stops_stylize_with_the_picture_and_record(tmp_path, number, code):
    out = tmp_path / 'out.png'
    proc, err = start(['stylize', CONTENT, STYLE, '-o', out, '--size', '64', '--iterations',
                       '100000', '--save-every', '1'], tmp_path)
    wait_for(lambda: out.with_name('out_2.png').exists(), 'two iterations')
    proc.send_signal(number)
    assert proc.wait(timeout=60) == code, ''.join(err)[-500:]
    assert 'Traceback' not in ''.join(err) and 'stopped, terminated' in ''.join(err)
    assert Image.open(out).size == (64, 48)
    record = json.loads(out.with_suffix('.json').read_text())
    assert record['status'] == 'terminated' and len(record['losses']) >= 2
    assert not list(tmp_path.glob('.*.part'))


@pytest.mark.parametrize('number, code, status, framework', [
    (signal.SIGTERM, 143, 'terminated', 'mxnet'), (signal.SIGINT, 130, 'interrupted', 'mxnet'),
    (signal.SIGTERM, 143, 'terminated', 'pytorch')])
def test_sigterm_stops_train_after_the_step_with_a_checkpoint(tmp_path, number, code, status,
                                                              framework):
    prefix = tmp_path / 'model'
    proc, err = start(['train', STYLE, '-o', prefix, '--iterations', '100000', '--save-every',
                       '100000', '--crop', '64', '--batch-size', '1', '--width', '4',
                       '--framework', framework], tmp_path)
    wait_for(lambda: '/100000' in ''.join(err), 'the training bar')  # the handler is in place
    time.sleep(3)  # a few steps
    proc.send_signal(number)
    assert proc.wait(timeout=60) == code, ''.join(err)[-500:]
    state = json.loads((tmp_path / 'model.checkpoint' / 'state.json').read_text())
    assert state['step'] >= 1  # saved at the step it stopped after, not at --save-every
    record = json.loads((tmp_path / 'model.json').read_text())
    assert record['status'] == status and record['resumes_at'] == state['step']
    assert record['iterations'] == state['step'] and not record['files']
    last = ''.join(err).strip().splitlines()[-1]
    assert last.startswith(f'd2lstyle: {status}; run the same command again to resume from '
                           f'step {state["step"]}'), last


@pytest.mark.parametrize('number, code, jobs', [(signal.SIGTERM, 143, '1'),
                                               (signal.SIGHUP, 129, '2')])
def test_sigterm_stops_the_build_leaving_no_half_file_and_the_finished_chapters(book, number,
                                                                               code, jobs):
    notebook(book / 'chapters', '01_fast', 'print(1)')
    notebook(book / 'chapters', '02_slow', 'import time\ntime.sleep(300)')
    script = f'import sys, build; build.main(sys.argv[1:], root={str(book)!r})'
    proc = subprocess.Popen([sys.executable, '-c', script, '--jobs', jobs], cwd=ROOT,
                            env=dict(os.environ, PYTHONPATH=str(ROOT)), stderr=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, text=True)
    cache = book / '_build' / 'executed'
    wait_for(lambda: list(cache.rglob('01_fast.ipynb')), 'the first chapter')
    time.sleep(2)  # the second chapter's kernel is running
    proc.send_signal(number)
    assert proc.wait(timeout=60) == code
    assert 'terminated; the chapters that finished stay cached' in proc.stderr.read()
    assert [p.name for p in cache.rglob('*.ipynb')] == ['01_fast.ipynb']
    assert not [p for p in book.rglob('*.part')] and not list(book.rglob('.*.ipynb.*'))


# ---- video --------------------------------------------------------------------------------

def a_clip(path, frames, size=(160, 112)):
    photo = Image.open(CONTENT).convert('RGB')
    clips.write_video(path, clips.pan_zoom(photo, size, frames)[0], 12)
    return path


def test_an_interrupted_video_keeps_the_frames_done_as_a_partial_clip(tmp_path):
    frames = clips.pan_zoom(Image.open(CONTENT).convert('RGB'), (96, 64), 6)[0]

    def stopped_after_three():
        yield from frames[:3]
        raise KeyboardInterrupt
    out, partial = tmp_path / 'clip.mp4', tmp_path / 'clip.partial.mp4'
    with pytest.raises(KeyboardInterrupt):
        clips.write_video(out, stopped_after_three(), 12, partial)
    assert not out.exists() and clips.video_info(partial)[2] == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ['clip.partial.mp4']


def test_a_video_on_a_full_disk_is_one_line_and_no_broken_file(mount, tmp_path, capsys):
    clip = a_clip(tmp_path / 'in.mp4', 8)
    full = mount('size=16k')
    out = full / 'out.mp4'
    assert cli.main(['transform', '--model', 'starry_night', str(clip), str(out)]) == EXIT_KEPT
    last = capsys.readouterr().err.strip().splitlines()[-1]  # after the progress bar
    assert last == (f'd2lstyle: error: could not write {out} (OpenCV wrote 0 of 8 frames; is '
                    'the disk full?); free some space there and run the command again')
    assert list(full.iterdir()) == []  # OpenCV's broken file is not left as the output


def test_sigterm_stops_a_video_keeping_the_frames_done(tmp_path):
    clip = a_clip(tmp_path / 'in.mp4', 400)
    out = tmp_path / 'out.mp4'
    proc, err = start(['transform', '--model', 'starry_night', clip, out], tmp_path)
    wait_for(lambda: any(p.stat().st_size for p in tmp_path.glob('.out.*.mp4')), 'frames')
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 143, ''.join(err)[-500:]
    partial = tmp_path / 'out.partial.mp4'
    done = clips.video_info(partial)[2]
    assert 0 < done < 400 and not out.exists()
    assert ''.join(err).strip().splitlines()[-1] == (
        f'd2lstyle: terminated; {out} was not written; the {done} frames done are in {partial}')


def test_a_folder_made_read_only_during_the_run_loses_nothing(mount, tmp_path):
    folder = mount('size=1m')
    out = folder / 'out.png'
    proc, err = start(['stylize', CONTENT, STYLE, '-o', out, '--size', '64', '--iterations',
                       '100000', '--save-every', '1'], tmp_path)
    wait_for(lambda: out.with_name('out_2.png').exists(), 'two iterations')
    subprocess.run(['mount', '-o', 'remount,ro', str(folder)], check=True)
    time.sleep(2)  # a snapshot or more fails meanwhile: reported once, the run goes on
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == EXIT_KEPT, ''.join(err)[-500:]
    text = ''.join(err)
    assert text.count('could not write the snapshot') == 1 and 'Traceback' not in text
    picture = Path(tempfile.gettempdir()) / f'd2lstyle-{proc.pid}-out.png'
    record = picture.with_suffix('.json')
    try:
        assert text.strip().splitlines()[-2:] == [
            f'd2lstyle: error: could not write {out} (Read-only file system); kept {picture} '
            f'and {record} instead',
            f'd2lstyle: stopped, terminated; kept the last good image in {picture}']
        assert Image.open(picture).size == (64, 48)
        assert json.loads(record.read_text())['status'] == 'terminated'
    finally:
        picture.unlink(missing_ok=True)
        record.unlink(missing_ok=True)


def test_a_command_gives_the_signals_back_as_it_found_them(tmp_path):
    before = {number: signal.getsignal(number) for number in signals.STOPS}
    assert cli.main(['stylize', str(CONTENT), str(STYLE), '-o', str(tmp_path / 'o.png'),
                     '--size', '64', '--iterations', '1']) == 0
    assert {number: signal.getsignal(number) for number in signals.STOPS} == before
