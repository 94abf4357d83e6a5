"""Video (chapter 7): the clip with known motion, reading and writing video files, the
warping error, blending along the flow, and `d2lstyle transform` on a video, with its
refusals of bad input."""
import re
from contextlib import nullcontext

import numpy as np
import pytest
from PIL import Image

from d2lstyle import cli, clips
from d2lstyle import mxnet as d2l
from d2lstyle.weights import Path

ROOT = Path(__file__).resolve().parents[1]
PHOTO = ROOT / 'img' / 'tubingen.jpg'
SIZE = (96, 64)


@pytest.fixture(scope='module')
def pan():
    """(frames, windows) of a short clip over the photograph."""
    return clips.pan_zoom(Image.open(PHOTO).convert('RGB'), SIZE, 6)


def true_motions(windows):
    flows = [clips.true_flow(windows[t], windows[t - 1], SIZE) for t in range(1, len(windows))]
    return [(flow, d2l.inside(flow)) for flow in flows]


def test_the_true_flow_carries_each_frame_onto_the_next(pan):
    frames, windows = pan
    motions = true_motions(windows)
    carried = d2l.warping_error(frames, motions).mean()
    standing = d2l.warping_error(frames, [(np.zeros_like(f), m) for f, m in motions]).mean()
    backwards = d2l.warping_error(frames, [(-f, m) for f, m in motions]).mean()
    assert carried < 4 and standing > 3 * carried and backwards > 3 * carried


def test_the_estimated_flow_is_within_a_pixel_of_the_truth_and_keeps_most_pixels(pan):
    frames, windows = pan
    for t, (true, _) in enumerate(true_motions(windows), 1):
        flow, mask = d2l.motion(frames[t], frames[t - 1])
        assert np.linalg.norm(flow - true, axis=-1)[mask].mean() < 1
        assert 0.9 < mask.mean() < 1  # the entering border is left out


def test_inside_leaves_out_the_pixels_whose_flow_points_out_of_the_frame():
    flow = np.zeros((64, 96, 2), np.float32)
    flow[..., 0] = 5  # each pixel came from 5 pixels to its right
    kept = d2l.inside(flow)
    assert kept[:, :91].all() and not kept[:, 91:].any()


def test_blending_with_alpha_zero_changes_nothing_and_otherwise_steadies_a_flickering_clip(pan):
    frames, windows = pan
    motions = true_motions(windows)
    noise = np.random.default_rng(0)
    flickering = [(f + noise.normal(0, 20, f.shape)).clip(0, 255).astype(np.uint8)
                  for f in frames]
    same = d2l.blend_along_flow(flickering, motions, 0)
    assert all(np.array_equal(a, b) for a, b in zip(same, flickering))
    before = d2l.warping_error(flickering, motions).mean()
    after = d2l.warping_error(d2l.blend_along_flow(flickering, motions, 0.5), motions).mean()
    assert after < 0.75 * before


def test_a_video_file_keeps_its_frames_rate_and_size(pan, tmp_path):
    frames, _ = pan
    for name in ('clip.mp4', 'clip.avi'):
        assert clips.write_video(tmp_path / name, frames, 12) == len(frames)
        fps, size, count = clips.video_info(tmp_path / name)
        back = list(clips.read_frames(tmp_path / name))
        assert (fps, size, count, len(back)) == (12, SIZE, len(frames), len(frames))
        assert np.abs(back[2].astype(float) - frames[2]).mean() < 8  # lossy, but the frame


def test_an_interrupted_write_leaves_no_file_and_no_part(pan, tmp_path):
    frames, _ = pan

    def stopping():
        yield frames[0]
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        clips.write_video(tmp_path / 'clip.mp4', stopping(), 12)
    assert list(tmp_path.iterdir()) == []


def transform(*args):
    return cli.main(['transform', '--model', 'starry_night', *map(str, args)])


def test_transform_stylizes_a_video_and_reports_its_flicker(pan, tmp_path, capsys):
    frames, _ = pan
    clips.write_video(tmp_path / 'in.mp4', frames[:4], 10)
    assert transform(tmp_path / 'in.mp4', tmp_path / 'out.avi') == 0
    out = capsys.readouterr().out
    assert clips.video_info(tmp_path / 'out.avi') == (10, SIZE, 4)
    stylized, blended = map(float, re.search(
        r'([\d.]+) stylized frame by frame, ([\d.]+) blended with --blend 0.5', out).groups())
    assert 0 < blended < stylized
    assert transform(tmp_path / 'in.mp4', tmp_path / 'raw.mp4', '--blend', '0') == 0
    out = capsys.readouterr().out
    raw = re.search(r'([\d.]+) stylized frame by frame, ([\d.]+) blended', out)
    assert raw.group(1) == raw.group(2)  # nothing blended: the same error twice


def refused(capsys, tmp_path, *args, words=()):
    """Exit code 2, one line naming the problem, and nothing written."""
    before = sorted(tmp_path.iterdir())
    with pytest.raises(SystemExit) if '--blend' in args else nullcontext():  # argparse's own
        assert transform(*args) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(('d2lstyle: error: ', 'usage:')) and 'Traceback' not in err
    assert err.splitlines()[-1].startswith(('d2lstyle: error: ', 'd2lstyle transform: error'))
    for word in words:
        assert str(word) in err.splitlines()[-1]
    assert sorted(tmp_path.iterdir()) == before
    return err


def test_transform_refuses_a_file_that_is_not_a_video(capsys, tmp_path):
    (tmp_path / 'notes.mp4').write_text('not a video')
    err = refused(capsys, tmp_path, tmp_path / 'notes.mp4', tmp_path / 'o.mp4',
                  words=['notes.mp4', 'not a video file'])
    assert '\n' not in err  # FFmpeg's own complaints are kept quiet


def test_transform_refuses_a_clip_with_no_frames(capsys, tmp_path):
    import cv2
    cv2.VideoWriter(str(tmp_path / 'empty.avi'), cv2.VideoWriter_fourcc(*'MJPG'), 12,
                    SIZE).release()
    refused(capsys, tmp_path, tmp_path / 'empty.avi', tmp_path / 'o.mp4',
            words=['empty.avi', 'no frame', 'empty'])


def test_transform_refuses_a_video_in_a_codec_it_cannot_decode(pan, capsys, tmp_path):
    frames, _ = pan
    clips.write_video(tmp_path / 'clip.avi', frames[:2], 12)
    data = (tmp_path / 'clip.avi').read_bytes()
    assert b'MJPG' in data
    (tmp_path / 'odd.avi').write_bytes(data.replace(b'MJPG', b'QQQQ'))  # a codec nobody has
    (tmp_path / 'clip.avi').unlink()
    err = refused(capsys, tmp_path, tmp_path / 'odd.avi', tmp_path / 'o.mp4',
                  words=['odd.avi', 'AVI', 'cannot decode', 're-encode'])
    assert '\n' not in err


def test_transform_refuses_outputs_that_do_not_fit_the_input(pan, capsys, tmp_path):
    frames, _ = pan
    clips.write_video(tmp_path / 'clip.mp4', frames[:2], 12)
    refused(capsys, tmp_path, tmp_path / 'clip.mp4', tmp_path / 'o.png',
            words=['o.png', '.mp4 or .avi'])
    refused(capsys, tmp_path, tmp_path / 'clip.mp4', tmp_path / 'o.mov',
            words=['o.mov', '.mp4 or .avi'])
    refused(capsys, tmp_path, PHOTO, tmp_path / 'o.mp4', words=['photograph', 'o.mp4'])
    refused(capsys, tmp_path, tmp_path / 'clip.mp4', tmp_path / 'clip.mp4',
            words=['overwrite'])
    refused(capsys, tmp_path, tmp_path / 'clip.mp4', tmp_path / 'o.mp4', '--blend', '1',
            words=['--blend', 'below 1'])
