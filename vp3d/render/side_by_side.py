"""Side-by-side result video: the input frame with its 2D skeleton | the 3D skeleton seen from a fixed viewpoint.

Everything is drawn with OpenCV primitives (no matplotlib): the reference's matplotlib render manages about
7 frames/s, this one is limited by the H.264 encoder. Work overlaps across three places: decoding runs in
a background thread (`prefetch`), drawing in the calling thread, encoding in the FFmpeg subprocess.

Colours (BGR) are the same in both panels: LEFT_COLOR for the person's left side, RIGHT_COLOR for the right
side, CENTRE_COLOR for the spine/head chain.
"""

from __future__ import annotations

import math
import os
import warnings
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import cv2
import numpy as np

from ..video import DEFAULT_CRF, DEFAULT_PRESET, H264Writer, iter_frames, prefetch, probe
from ..skeleton import H36M, Layout, get_layout, joint_side

LEFT_COLOR = (255, 150, 30)     # blue
RIGHT_COLOR = (40, 40, 230)     # red
CENTRE_COLOR = (60, 200, 60)    # green
LOW_CONF_COLOR = (160, 160, 160)  # grey: joints below the score threshold, filled-in frames
OUTLINE_COLOR = (20, 20, 20)
GRID_COLOR = (90, 90, 90)
PANEL_BACKGROUND = (32, 32, 32)
_FONT = cv2.FONT_HERSHEY_SIMPLEX
_SHIFT = 4  # sub-pixel drawing: coordinates are passed multiplied by 2**_SHIFT
_ONE = 1 << _SHIFT


@dataclass
class RenderResult:
    path: Path
    frames: int      # frames written (== frames decoded from the input)
    width: int       # output size in pixels
    height: int
    fps: float


# ------------------------------------------------------------------------------------------------ colours

def bone_colors(layout: Layout) -> list[tuple[tuple[int, int], tuple[int, int, int]]]:
    """(parent, child) bones of `layout`, each with its colour: the child's side, or centre when the bone
    joins the two sides (e.g. COCO's shoulder line)."""
    side = joint_side(layout)
    colour = {-1: LEFT_COLOR, 0: CENTRE_COLOR, 1: RIGHT_COLOR}
    out = []
    for p, j in layout.bones():
        s = side[j] if side[p] in (0, side[j]) else 0
        out.append(((p, j), colour[int(s)]))
    return out


def joint_colors(layout: Layout) -> list[tuple[int, int, int]]:
    colour = {-1: LEFT_COLOR, 0: CENTRE_COLOR, 1: RIGHT_COLOR}
    return [colour[int(s)] for s in joint_side(layout)]


def lighter(colour: tuple[int, int, int], amount: float = 0.45) -> tuple[int, int, int]:
    """`colour` moved `amount` of the way towards white."""
    return tuple(int(round(c + (255 - c) * amount)) for c in colour)


def person_joint_colors(layout: Layout, colour: tuple[int, int, int]) -> list[tuple[int, int, int]]:
    """Joint colours of one person drawn in `colour`: the right side lighter, so the sides still read."""
    return [lighter(colour) if s > 0 else colour for s in joint_side(layout)]


def person_bone_colors(layout: Layout, colour: tuple[int, int, int]):
    """Like bone_colors, in one person's colour (right side lighter)."""
    side = joint_side(layout)
    return [((p, j), lighter(colour) if side[j] > 0 and side[p] in (0, side[j]) else colour)
            for p, j in layout.bones()]


def _fixed(pt: np.ndarray) -> tuple[int, int]:
    """Float pixel -> fixed-point ints for OpenCV's `shift` argument (sub-pixel, smooth anti-aliasing)."""
    return int(round(pt[0] * _ONE)), int(round(pt[1] * _ONE))


def _label(img: np.ndarray, text: str, org: tuple[int, int], scale: float, color, thickness: int) -> None:
    """Text on a dark box so it reads on any background."""
    (tw, th), base = cv2.getTextSize(text, _FONT, scale, thickness)
    x, y = org
    cv2.rectangle(img, (x - 4, y - th - 6), (x + tw + 4, y + base + 2), (0, 0, 0), -1)
    cv2.putText(img, text, (x, y), _FONT, scale, color, thickness, cv2.LINE_AA)


# ------------------------------------------------------------------------------------------------ 2D panel

def draw_skeleton_2d(img: np.ndarray, xy: np.ndarray, score: np.ndarray, layout: Layout, *,
                     threshold: float = 0.3, interpolated: bool = False, thickness: int = 2,
                     line_type: int = cv2.LINE_AA, colour: tuple[int, int, int] | None = None,
                     label_interpolated: bool = True) -> None:
    """Draw one 2D skeleton on `img` in place.

    xy: (J, 2) pixels of `img`; score: (J,) in [0, 1].
    Joints with score < threshold are drawn as hollow grey circles and their bones thin and grey;
    `interpolated` (a frame without a detection, filled in from its neighbours) draws everything grey
    and writes a label, so filled-in frames are never mistaken for detections.
    colour: one colour for the whole person (several people; the right side drawn lighter, see
    person_bone_colors) instead of the left/right/centre colours; label_interpolated=False leaves the label to
    the caller (one corner label cannot speak for several people).
    """
    if not np.all(np.isfinite(xy)):
        return
    low = score < threshold
    radius = (thickness + 2) * _ONE
    bones = bone_colors(layout) if colour is None else person_bone_colors(layout, colour)
    joint_cols = joint_colors(layout) if colour is None else person_joint_colors(layout, colour)
    # A dark outline under the confident bones keeps them readable on any background (e.g. a blue shirt).
    for (p, j), _ in bones:
        if not (interpolated or low[p] or low[j]):
            cv2.line(img, _fixed(xy[p]), _fixed(xy[j]), OUTLINE_COLOR, thickness + 2, line_type, _SHIFT)
    for (p, j), col in bones:
        weak = interpolated or low[p] or low[j]
        cv2.line(img, _fixed(xy[p]), _fixed(xy[j]), LOW_CONF_COLOR if weak else col,
                 max(1, thickness // 2) if weak else thickness, line_type, _SHIFT)
    for j, col in enumerate(joint_cols):
        if low[j]:  # hollow and a bit larger than a confident joint, so it stands out as "unsure"
            cv2.circle(img, _fixed(xy[j]), radius + _ONE, LOW_CONF_COLOR, max(2, thickness // 2), line_type, _SHIFT)
        else:
            cv2.circle(img, _fixed(xy[j]), radius, LOW_CONF_COLOR if interpolated else col, -1, line_type, _SHIFT)
    if interpolated and label_interpolated:
        scale = img.shape[0] / 900
        _label(img, "no detection (interpolated)", (int(12 * scale) + 4, int(40 * scale) + 4), scale,
               (255, 255, 255), max(1, round(2 * scale)))


# ------------------------------------------------------------------------------------------------ 3D panel

def _nice_step(length: float) -> float:
    """A round grid spacing (0.1, 0.2, 0.25, 0.5, 1, 2 ... metres) near `length`."""
    exp = 10 ** math.floor(math.log10(length))
    for m in (1, 2, 2.5, 5, 10):
        if m * exp >= length:
            return m * exp
    return 10 * exp


class Pose3DPanel:
    """Square panel with a 3D skeleton (Human3.6M-17) drawn by orthographic projection.

    poses3d: (T, 17, 3) metres, camera frame (x right, y down, z forward), root-relative.
    trajectory: optional (T, 3) camera-frame root positions in metres; the view then follows the root
        horizontally and the floor grid slides underneath (a plain translation).
    The pose is shown in a y-up world (x right, y up = -camera y, z depth), from a viewer turned
    `azimuth_deg` about the vertical axis (positive: to the right of the original camera) and raised
    `elevation_deg` above the horizon. Scale, floor height and vertical centre are fixed for the whole clip
    (from its extent), so the body's size and height do not "breathe" from frame to frame. The floor grid
    lies at the lowest foot height of the clip. margin > 1 leaves room for poses wider than these (a panel
    built from the start of a clip, vp3d.render.live).
    """

    FEET = (3, 6)  # Human3.6M right_foot, left_foot

    def __init__(self, poses3d: np.ndarray, size: int, *, trajectory: np.ndarray | None = None,
                 azimuth_deg: float = 35.0, elevation_deg: float = 15.0, antialias: bool = True,
                 margin: float = 1.0):
        poses3d = np.asarray(poses3d, dtype=np.float64)
        if poses3d.ndim != 3 or poses3d.shape[1:] != (H36M.num_joints, 3):
            raise ValueError(f"poses3d must be (T, 17, 3) in Human3.6M order, got {poses3d.shape}")
        self.size = int(size)
        self.line_type = cv2.LINE_AA if antialias else cv2.LINE_8
        world = poses3d * np.array([1.0, -1.0, 1.0])  # camera y is down; the world's y is up
        if trajectory is not None:
            trajectory = np.asarray(trajectory, dtype=np.float64)
            if trajectory.shape != (len(poses3d), 3):
                raise ValueError(f"trajectory must be ({len(poses3d)}, 3), got {trajectory.shape}")
            world = world + (trajectory * np.array([1.0, -1.0, 1.0]))[:, None, :]
        valid = np.isfinite(world).all(axis=(1, 2))
        if not valid.any():
            raise ValueError("poses3d holds no finite pose")
        self.valid = valid
        floor = float(np.nanmin(world[valid][:, self.FEET, 1]))
        top = float(np.nanmax(world[valid][:, :, 1]))
        # Centre: root's horizontal position (fixed at 0 without a trajectory), midway between floor and top.
        centre = np.zeros((len(world), 3))
        if trajectory is not None:
            centre[:, 0] = world[:, 0, 0]
            centre[:, 2] = world[:, 0, 2]
            centre[~valid] = 0.0
        centre[:, 1] = 0.5 * (floor + top)
        rel = world - centre[:, None, :]
        radius = margin * max(float(np.nanmax(np.linalg.norm(rel[valid], axis=-1))), 0.3)
        # Orthographic projection never lengthens a vector, so a radius that fits keeps every view inside.
        self.pixels_per_metre = 0.46 * self.size / radius
        self.floor = floor
        self.centre = centre
        self.grid_step = _nice_step(radius / 3)
        self.grid_half = self.grid_step * math.ceil(radius / self.grid_step)
        self._axes = view_axes(azimuth_deg, elevation_deg)
        proj = self._project(rel.reshape(-1, 3)).reshape(len(world), -1, 3)
        self._pix = proj[..., :2]        # (T, 17, 2) pixels of the panel
        self._depth = proj[..., 2]       # (T, 17) larger = farther from the viewer
        self._bones = bone_colors(H36M)
        self._joint_colours = joint_colors(H36M)
        self.thickness = max(2, round(self.size / 240))
        self._static = None if trajectory is not None else self._background(self.centre[0])

    def _project(self, pts: np.ndarray) -> np.ndarray:
        """(N, 3) world offsets from the view centre -> (N, 3): panel pixel x, pixel y, depth."""
        v = pts @ self._axes.T
        half = self.size / 2
        return np.stack([half + v[:, 0] * self.pixels_per_metre,
                         half - v[:, 1] * self.pixels_per_metre, v[:, 2]], axis=1)

    def _background(self, centre: np.ndarray) -> np.ndarray:
        """Panel background: the floor grid (world-fixed lines around the view centre (3,)) and the legend."""
        img = np.empty((self.size, self.size, 3), np.uint8)
        img[:] = PANEL_BACKGROUND
        s, h = self.grid_step, self.grid_half
        xs = np.arange(math.floor((centre[0] - h) / s), math.ceil((centre[0] + h) / s) + 1) * s
        zs = np.arange(math.floor((centre[2] - h) / s), math.ceil((centre[2] + h) / s) + 1) * s
        x0, x1, z0, z1 = xs[0], xs[-1], zs[0], zs[-1]
        segs = [((x, z0), (x, z1)) for x in xs] + [((x0, z), (x1, z)) for z in zs]
        pts = np.array([[a[0], self.floor, a[1]] for seg in segs for a in seg]) - centre
        pix = self._project(pts)[:, :2]
        for k in range(len(segs)):
            cv2.line(img, _fixed(pix[2 * k]), _fixed(pix[2 * k + 1]), GRID_COLOR, 1, self.line_type, _SHIFT)
        scale = self.size / 900
        th = max(1, round(2 * scale))
        cv2.putText(img, "left", (int(14 * scale) + 2, int(36 * scale) + 4), _FONT, scale, LEFT_COLOR, th, cv2.LINE_AA)
        cv2.putText(img, "right", (int(90 * scale) + 2, int(36 * scale) + 4), _FONT, scale, RIGHT_COLOR, th, cv2.LINE_AA)
        return img

    def draw(self, out: np.ndarray, t: int) -> None:
        """Draw frame t into `out` ((size, size, 3) uint8, e.g. a slice of the output canvas)."""
        out[:] = self._static if self._static is not None else self._background(self.centre[t])
        if t >= len(self._pix) or not self.valid[t]:
            return
        draw_pose_3d(out, self._pix[t], self._depth[t], self._bones, self._joint_colours, self.thickness,
                     self.line_type)

    def draw_pose(self, out: np.ndarray, pose: np.ndarray, root: np.ndarray | None = None) -> None:
        """Draw a pose the panel was not built from, with the panel's fixed scale and floor (the render
        that runs while detection goes on builds the panel from the first poses, then draws each new one).
        pose: (17, 3) metres, camera frame, root-relative; root: (3,) camera-frame root position, followed
        horizontally when the panel was built with a trajectory."""
        world = np.asarray(pose, np.float64) * np.array([1.0, -1.0, 1.0])
        centre = self.centre[0].copy()
        if self._static is None and root is not None:
            world = world + np.asarray(root, np.float64) * np.array([1.0, -1.0, 1.0])
            centre[0], centre[2] = world[0, 0], world[0, 2]
        out[:] = self._static if self._static is not None else self._background(centre)
        if not np.isfinite(world).all():
            return
        proj = self._project(world - centre)
        draw_pose_3d(out, proj[:, :2], proj[:, 2], self._bones, self._joint_colours, self.thickness, self.line_type)


def draw_pose_3d(out: np.ndarray, pix: np.ndarray, depth: np.ndarray, bones, joint_colours, thickness: int,
                 line_type: int) -> None:
    """One projected skeleton: pix (J, 2) panel pixels, depth (J,) larger = farther; bones as bone_colors."""
    # Painter's order: far bones first, so the near limbs stay on top.
    for (p, j), colour in sorted(bones, key=lambda b: -(depth[b[0][0]] + depth[b[0][1]])):
        cv2.line(out, _fixed(pix[p]), _fixed(pix[j]), colour, thickness, line_type, _SHIFT)
    for j in np.argsort(-depth):
        cv2.circle(out, _fixed(pix[j]), (thickness + 1) * _ONE, joint_colours[j], -1, line_type, _SHIFT)


# ------------------------------------------------------------------------------------------------ render

def view_axes(azimuth_deg: float, elevation_deg: float) -> np.ndarray:
    """(3, 3) rows: screen x, screen up, depth, for a viewer turned by azimuth about the vertical (y)
    and raised by elevation (screen-up and depth tilt towards the forward axis)."""
    a, e = math.radians(azimuth_deg), math.radians(elevation_deg)
    right = np.array([math.cos(a), 0.0, math.sin(a)])
    forward = np.array([-math.sin(a), 0.0, math.cos(a)])
    up = np.array([0.0, 1.0, 0.0])
    return np.stack([right, math.cos(e) * up + math.sin(e) * forward, math.cos(e) * forward - math.sin(e) * up])


def _output_size(width: int, height: int, max_height: int) -> tuple[int, int]:
    """Left-panel size: the input scaled down so height <= max_height, both sides even (yuv420p)."""
    s = min(1.0, max_height / height)
    w, h = max(2, round(width * s)), max(2, round(height * s))
    return w - w % 2, h - h % 2


def skeleton_thickness(left_height: int) -> int:
    """Line width of the 2D skeleton on a left panel of this height, in pixels."""
    return max(2, round(left_height / 300))


def left_panel_size(width: int, height: int, max_height: int) -> tuple[int, int, bool]:
    """(width, height, resize) of the left panel for a width x height input: resize is False when only a
    crop of at most one pixel (to even sides) is needed."""
    left_w, left_h = _output_size(width, height, max_height)
    return left_w, left_h, width - left_w > 1 or height - left_h > 1


def left_frames(path: Path, size: tuple[int, int], resize: bool) -> Iterator[np.ndarray]:
    """Decoded frames at the left panel's size (width, height): resized when the input is larger than the
    output allows, else only cropped (by at most one pixel, to even sides: no resampling blur)."""
    w, h = size
    for frame in iter_frames(path, size=size if resize else None):
        if not resize:
            frame = frame[:h, :w]
            if frame.shape[:2] != (h, w):  # a stream whose size changes midway: fit it anyway
                frame = cv2.resize(frame, (w, h), interpolation=cv2.INTER_AREA)
        yield frame


def render_frames(video_path: str | os.PathLike, out_path: str | os.PathLike, left_size: tuple[int, int],
                  resize: bool, fps, draw: Callable[[int, np.ndarray, np.ndarray], None], *,
                  crf: int = DEFAULT_CRF, preset: str = DEFAULT_PRESET,
                  progress: Callable[[int], None] | None = None,
                  before_close: Callable[[int], None] | None = None) -> RenderResult:
    """The one render loop: every decoded frame of the input, side by side with a square panel of the same
    height, encoded to `out_path` (H.264, yuv420p, written atomically; audio from the input).

    left_size, resize: the left panel (left_panel_size); fps: the output's frame rate.
    draw(t, left, right): draws frame t's overlays; `left` already holds the (scaled) picture, `right` is the
        square panel to fill. It may block until frame t is known (the render running during detection).
    before_close(frames_written): called before the file is finished; raising there leaves nothing written.
    Decoding runs in a background thread (`prefetch`), drawing in the calling thread, encoding in FFmpeg.
    """
    left_w, left_h = left_size
    canvas = np.empty((left_h, left_w + left_h, 3), np.uint8)
    left, right = canvas[:, :left_w], canvas[:, left_w:]
    written = 0
    frames = prefetch(left_frames(Path(video_path), (left_w, left_h), resize))
    # closing(): on an error the decode thread stops and releases the file now, not when the traceback dies.
    with H264Writer(out_path, canvas.shape[1], canvas.shape[0], fps, crf=crf, preset=preset,
                    audio_from=video_path) as writer, closing(frames):
        for t, frame in enumerate(frames):
            left[:] = frame
            draw(t, left, right)
            writer.write(canvas)
            written += 1
            if progress is not None:
                progress(written)
        if before_close is not None:
            before_close(written)
    return RenderResult(path=Path(out_path), frames=written, width=canvas.shape[1], height=canvas.shape[0],
                        fps=float(fps))


def render_video(video_path: str | os.PathLike, out_path: str | os.PathLike, kp2d_xy: np.ndarray,
                 kp2d_score: np.ndarray, detected: np.ndarray, layout2d: Layout, poses3d: np.ndarray,
                 fps: float | None = None, *, trajectory: np.ndarray | None = None,
                 score_threshold: float = 0.3, max_height: int = 1080, azimuth_deg: float = 35.0,
                 elevation_deg: float = 15.0, antialias: bool = True, crf: int = DEFAULT_CRF, preset: str = DEFAULT_PRESET,
                 progress: Callable[[int], None] | None = None) -> RenderResult:
    """Render the side-by-side video to `out_path` (H.264, yuv420p, written atomically).

    kp2d_xy: (T, J, 2) pixels of the input video, in `layout2d` order; kp2d_score: (T, J) in [0, 1];
    detected: (T,) bool, False on frames filled in by interpolation (labelled in the video).
    poses3d: (T, 17, 3) metres, camera frame, root-relative, Human3.6M order; trajectory: optional (T, 3).
    fps: output frame rate (default: the input's).
    Output: left = the input frame (scaled down so the height is at most `max_height`) with the 2D skeleton;
    right = a square 3D panel of the same height (see Pose3DPanel). One output frame per decoded input frame,
    exactly; frames beyond T (should the keypoints be shorter than the video) get the picture only.
    progress: optional callable(frames_done).
    """
    info = probe(video_path)
    kp2d_xy = np.asarray(kp2d_xy, dtype=np.float64)
    kp2d_score = np.asarray(kp2d_score, dtype=np.float64)
    detected = np.asarray(detected, dtype=bool)
    num = len(kp2d_xy)
    if kp2d_xy.shape != (num, layout2d.num_joints, 2) or kp2d_score.shape != (num, layout2d.num_joints) \
            or detected.shape != (num,) or len(poses3d) != num:
        raise ValueError(f"inconsistent inputs: kp2d_xy {kp2d_xy.shape}, kp2d_score {kp2d_score.shape}, "
                         f"detected {detected.shape}, poses3d {np.shape(poses3d)} (layout {layout2d.name})")
    left_w, left_h, resize = left_panel_size(info.width, info.height, max_height)
    xy_left = kp2d_xy * (np.array([left_w / info.width, left_h / info.height]) if resize else 1.0)
    panel = Pose3DPanel(poses3d, left_h, trajectory=trajectory, azimuth_deg=azimuth_deg,
                        elevation_deg=elevation_deg, antialias=antialias)
    line_type = cv2.LINE_AA if antialias else cv2.LINE_8
    thickness = skeleton_thickness(left_h)
    out_fps = fps if fps is not None else info.fps

    def draw(t: int, left: np.ndarray, right: np.ndarray) -> None:
        if t < num:
            draw_skeleton_2d(left, xy_left[t], kp2d_score[t], layout2d, threshold=score_threshold,
                             interpolated=not detected[t], thickness=thickness, line_type=line_type)
        panel.draw(right, t)

    rendered = render_frames(video_path, out_path, (left_w, left_h), resize, out_fps, draw, crf=crf, preset=preset,
                             progress=progress)
    written = rendered.frames
    if written != num:
        warnings.warn(f"{video_path}: decoded {written} frames but got poses for {num}; "
                      f"the output has {written} frames", stacklevel=2)
    return rendered


def render_result(result, out_path: str | os.PathLike, progress: Callable[[int], None] | None = None,
                  crf: int = DEFAULT_CRF, preset: str = DEFAULT_PRESET) -> Path:
    """Render an InferenceResult (vp3d.pipeline.infer) to `out_path`; returns the written path."""
    kp = result.keypoints
    rendered = render_video(result.video.path, out_path, kp.xy, kp.score, kp.detected, get_layout(kp.layout),
                            result.poses3d, trajectory=result.trajectory, progress=progress, crf=crf, preset=preset)
    return Path(rendered.path)
