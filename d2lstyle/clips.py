"""Video files in and out, with OpenCV's FFmpeg, and the clip the book makes for itself.

OpenCV comes with gluoncv already (``opencv-python``, with FFmpeg built in), so reading and
writing video needs no new package; ``imageio-ffmpeg`` would add a second copy of FFmpeg.
Every problem with a file is a ``VideoError`` whose one line names the file, says what is
wrong and what to do. Frames are 8-bit RGB arrays of shape (height, width, 3).
"""
import os
import tempfile
from pathlib import Path

# FFmpeg's and OpenCV's own messages ("moov atom not found", "Could not find decoder") would
# come before ours: quiet (FFmpeg's AV_LOG_QUIET), read when OpenCV is imported or first opens
# a video.
os.environ.setdefault('OPENCV_FFMPEG_LOGLEVEL', '-8')
os.environ.setdefault('OPENCV_LOG_LEVEL', 'OFF')
import cv2  # noqa: E402
import numpy as np
from PIL import Image

from . import D2lStyleError, signals

# The containers d2lstyle writes, with the codec each gets: MPEG-4 part 2 in .mp4 plays in
# browsers and players and needs no licence-encumbered encoder; Motion JPEG in .avi is
# nearly lossless at quality 95.
WRITERS = {'.mp4': 'mp4v', '.avi': 'MJPG'}
# What d2lstyle transform reads as a video rather than a photograph, by suffix
VIDEO_SUFFIXES = ('.mp4', '.avi', '.mov', '.mkv', '.webm', '.m4v')
# How the common containers begin: (offset, bytes, name), to tell a video whose codec FFmpeg
# lacks from a file that is no video at all
CONTAINERS = ((0, b'RIFF', 'an AVI'), (4, b'ftyp', 'an MP4 or QuickTime'),
              (0, b'\x1a\x45\xdf\xa3', 'a Matroska or WebM'))


class VideoError(D2lStyleError):
    pass


def is_video(path):
    return Path(path).suffix.lower() in VIDEO_SUFFIXES


def video_info(path):
    """(frames per second, (width, height), number of frames) of a video file that OpenCV can
    decode, or VideoError saying why it cannot."""
    path = Path(path)
    if not path.is_file():
        raise VideoError(f'{path}: no such file (looked for {path.absolute()}); check the '
                         'name and the folder')
    capture = cv2.VideoCapture(str(path))
    try:
        if not capture.isOpened():
            raise VideoError(unopened(path))
        count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        fps = capture.get(cv2.CAP_PROP_FPS)
        ok, frame = capture.read()
    finally:
        capture.release()
    if not ok:
        raise VideoError(f'{path}: holds no frame that can be decoded'
                         + (f' (it says {count}, in a codec this FFmpeg cannot decode); '
                            're-encode it, for example with ffmpeg -i IN -c:v mpeg4 OUT.mp4'
                            if count > 0 else '; it is empty: export the clip again'))
    if not fps or not np.isfinite(fps) or fps <= 0:
        raise VideoError(f'{path}: no frame rate in the file; re-encode it with one')
    height, width = frame.shape[:2]
    return fps, (width, height), count


def unopened(path):
    """Why OpenCV could not open ``path``: no video, or a container it cannot decode."""
    with open(path, 'rb') as f:
        head = f.read(12)
    for offset, magic, name in CONTAINERS:
        if head[offset:offset + len(magic)] == magic:
            return (f'{path}: {name} file whose video this FFmpeg cannot decode (an unknown '
                    'codec, or a damaged file); re-encode it, for example with ffmpeg -i IN '
                    '-c:v mpeg4 OUT.mp4')
    return (f'{path}: not a video file that OpenCV (FFmpeg) can open; give an MP4, AVI or '
            f'another common video ({", ".join(VIDEO_SUFFIXES)})')


def read_frames(path):
    """The frames of a video file, one at a time, as RGB arrays."""
    video_info(path)  # the checks, with their messages
    capture = cv2.VideoCapture(str(path))
    try:
        while True:
            ok, frame = capture.read()
            if not ok:
                return
            yield cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
    finally:
        capture.release()


def check_video_output(path):
    suffix = Path(path).suffix.lower()
    if suffix not in WRITERS:
        raise VideoError(f'{path}: a video is written as {" or ".join(WRITERS)}, not '
                         f'{suffix or "a name without a suffix"}; change the output name')


def write_video(path, frames, fps, partial=None):
    """Write RGB frames as a video at ``fps``, atomically: an interrupted run leaves the old
    file or none, never half a clip; with ``partial``, a path, the frames written before an
    interruption are kept there as a shorter clip, their number in the interruption's
    ``kept_frames``. OpenCV reports no failed write (a full disk): the file is read back, and
    one that lacks frames is an OSError. Returns the number of frames written."""
    path = Path(path)
    check_video_output(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f'.{path.stem}.', suffix=path.suffix)
    os.close(fd)
    writer, count = None, 0
    try:
        for frame in frames:
            if writer is None:
                height, width = frame.shape[:2]
                writer = cv2.VideoWriter(tmp, cv2.VideoWriter_fourcc(*WRITERS[path.suffix.lower()]),
                                         fps, (width, height))
                if not writer.isOpened():
                    raise VideoError(f'{path}: OpenCV could not open a {path.suffix} writer; '
                                     'try the other container (.mp4 or .avi)')
            writer.write(cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2BGR))
            count += 1
        if writer is None:
            raise VideoError(f'{path}: no frames to write')
        finish(writer, tmp, count, path)
        return count
    except KeyboardInterrupt as stop:
        if partial is not None and count:
            with signals.held():  # a second signal must not cut this save short
                finish(writer, tmp, count, Path(partial))
            stop.kept_frames = count  # what the caller can tell the user
        else:
            discard(writer, tmp)
        raise
    except BaseException:
        discard(writer, tmp)
        raise


def finish(writer, tmp, count, path):
    """Close the clip in ``tmp``, check that it holds its ``count`` frames, name it ``path``."""
    writer.release()
    capture = cv2.VideoCapture(tmp)
    found = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) if capture.isOpened() else 0
    capture.release()
    if found != count:
        os.unlink(tmp)
        raise OSError(f'OpenCV wrote {found} of {count} frames; is the disk full?')
    os.replace(tmp, path)


def discard(writer, tmp):
    if writer is not None:
        writer.release()
    Path(tmp).unlink(missing_ok=True)  # finish may have removed it


def pan_zoom(img, size, num_frames, zoom=1.2, pan=(0.1, 0.05)):
    """A clip that a camera would make moving slowly over the photograph ``img``: frame t
    shows a window that shrinks by ``zoom`` in all and moves by ``pan`` (fractions of the
    photograph) in all, resized to ``size``. Returns (frames, boxes): the frames as RGB arrays
    and each frame's window (left, top, right, bottom) in the photograph (resized so that the
    first window is ``size``), from which ``true_flow`` gives the exact motion."""
    aspect = size[0] / size[1]
    # the first window, as large as the pan leaves room for, and the photograph resized so
    # that it is the clip's size: a camera does not alias, and a smaller window only enlarges
    w0 = min(img.width * (1 - abs(pan[0])), img.height * (1 - abs(pan[1])) * aspect)
    img = img.resize((round(img.width * size[0] / w0), round(img.height * size[0] / w0)),
                     Image.Resampling.LANCZOS)
    width, height = img.size
    w0, h0 = size[0], size[0] / aspect
    frames, boxes = [], []
    for t in np.linspace(0, 1, num_frames):
        s = zoom ** -t
        cx = width / 2 + (pan[0] * t - pan[0] / 2) * width
        cy = height / 2 + (pan[1] * t - pan[1] / 2) * height
        box = (cx - w0 * s / 2, cy - h0 * s / 2, cx + w0 * s / 2, cy + h0 * s / 2)
        frames.append(np.asarray(img.transform(size, Image.Transform.EXTENT, box,
                                                Image.Resampling.BICUBIC)))
        boxes.append(box)
    return frames, boxes


def true_flow(box, previous_box, size):
    """The exact backward flow of a ``pan_zoom`` clip: for each pixel of the frame with window
    ``box``, where that point of the photograph lay in the frame before, minus where it lies
    now, as an array (height, width, 2) of (dx, dy), as cv2's optical flow gives it."""
    width, height = size
    x, y = np.meshgrid(np.arange(width) + 0.5, np.arange(height) + 0.5)
    flows = []
    for k, p in ((0, x), (1, y)):
        scale, previous_scale = [(b[k + 2] - b[k]) / size[k] for b in (box, previous_box)]
        point = box[k] + p * scale  # in the photograph
        flows.append((point - previous_box[k]) / previous_scale - p)
    return np.stack(flows, axis=-1).astype(np.float32)
