"""Side-by-side video of several tracked people: every person in its own colour in both panels.

Left: the input frame with each person's 2D skeleton in its colour (right side lighter) and its track id
above the head; a person's frames filled in by interpolation are drawn grey with "#id interpolated".
Right: every person's root-relative 3D skeleton side by side (ordered by where they stand in the image,
spaced by the widest arm reach of the clip plus 0.3 m so they never overlap), over one floor grid, with
the single-person panel's viewpoint and a scale fixed over the clip.
A person is drawn only from its first to its last frame (vp3d.pipeline.people).
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

from ..skeleton import H36M, get_layout
from .side_by_side import (GRID_COLOR, PANEL_BACKGROUND, _FONT, _SHIFT, _fixed, _label, left_panel_size,
                     _nice_step, draw_skeleton_2d, person_bone_colors, person_joint_colors,
                     draw_pose_3d, render_frames, skeleton_thickness, view_axes)
from ..video import DEFAULT_CRF, DEFAULT_PRESET, probe

# BGR, distinct on most footage and none of them grey (grey means "interpolated").
PERSON_COLORS = ((255, 150, 30), (40, 40, 230), (60, 200, 60), (0, 200, 255), (200, 80, 200),
                 (230, 230, 0), (0, 120, 255), (150, 90, 40))


def person_color(k: int) -> tuple[int, int, int]:
    """Colour of the k-th person drawn (cycling through PERSON_COLORS)."""
    return PERSON_COLORS[k % len(PERSON_COLORS)]


class PeoplePanel:
    """Square panel with several Human3.6M-17 skeletons, orthographic, y up, seen from `azimuth_deg` /
    `elevation_deg` (as render.Pose3DPanel).

    poses: (P, T, 17, 3) metres, camera frame (y down), root-relative; NaN where a person is absent.
    order_x: (P,) where each person stands left to right in the image (pixels), to lay them out alike.
    """

    FEET = (3, 6)

    def __init__(self, poses: np.ndarray, order_x: np.ndarray, size: int, labels: list[str], *,
                 azimuth_deg: float = 35.0, elevation_deg: float = 15.0, antialias: bool = True):
        poses = np.asarray(poses, np.float64) * np.array([1.0, -1.0, 1.0])
        self.size, self.labels = int(size), labels
        self.line_type = cv2.LINE_AA if antialias else cv2.LINE_8
        self.valid = np.isfinite(poses).all(axis=(2, 3))  # (P, T)
        half_width = np.nanmax(np.abs(poses[..., 0]))  # the widest arm reach of anyone, metres
        spacing = 2 * half_width + 0.3
        rank = np.argsort(np.argsort(order_x))
        offsets = (rank - (len(poses) - 1) / 2) * spacing  # (P,) metres along x
        world = poses + np.stack([offsets, np.zeros_like(offsets), np.zeros_like(offsets)], 1)[:, None, None]
        self.floor = float(np.nanmin(world[..., self.FEET, 1]))
        top = float(np.nanmax(world[..., 1]))
        centre = np.array([0.0, 0.5 * (self.floor + top), 0.0])
        radius = max(float(np.nanmax(np.linalg.norm(world - centre, axis=-1))), 0.3)
        self.pixels_per_metre = 0.46 * self.size / radius
        self.grid_step = _nice_step(radius / 3)
        self.grid_half = self.grid_step * math.ceil(radius / self.grid_step)
        self._axes = view_axes(azimuth_deg, elevation_deg)
        proj = self._project((world - centre).reshape(-1, 3)).reshape(*world.shape)
        self._pix, self._depth = proj[..., :2], proj[..., 2]  # (P, T, 17, 2), (P, T, 17)
        self._label_at = self._project(np.stack([offsets, np.full_like(offsets, top + 0.1), np.zeros_like(offsets)],
                                                1) - centre)[:, :2]
        self._bones = [person_bone_colors(H36M, person_color(k)) for k in range(len(poses))]
        self._joints = [person_joint_colors(H36M, person_color(k)) for k in range(len(poses))]
        self.thickness = max(2, round(self.size / 240))
        self._static = self._background(centre)

    def _project(self, pts: np.ndarray) -> np.ndarray:
        v = pts @ self._axes.T
        half = self.size / 2
        return np.stack([half + v[:, 0] * self.pixels_per_metre, half - v[:, 1] * self.pixels_per_metre, v[:, 2]], 1)

    def _background(self, centre: np.ndarray) -> np.ndarray:
        img = np.empty((self.size, self.size, 3), np.uint8)
        img[:] = PANEL_BACKGROUND
        s, h = self.grid_step, self.grid_half
        ticks = np.arange(-math.ceil(h / s), math.ceil(h / s) + 1) * s
        segs = [((x, -h), (x, h)) for x in ticks] + [((-h, z), (h, z)) for z in ticks]
        pts = np.array([[p[0], self.floor, p[1]] for seg in segs for p in seg]) - np.array([0, centre[1], 0])
        pix = self._project(pts)[:, :2]
        for k in range(len(segs)):
            cv2.line(img, _fixed(pix[2 * k]), _fixed(pix[2 * k + 1]), GRID_COLOR, 1, self.line_type, _SHIFT)
        return img

    def draw(self, out: np.ndarray, t: int) -> None:
        """Draw frame t into `out` ((size, size, 3) uint8)."""
        out[:] = self._static
        th = self.thickness
        scale = self.size / 900
        for k in range(len(self._pix)):
            if t >= self._pix.shape[1] or not self.valid[k, t]:
                continue
            draw_pose_3d(out, self._pix[k, t], self._depth[k, t], self._bones[k], self._joints[k], th,
                         self.line_type)
            x, y = self._label_at[k]
            cv2.putText(out, self.labels[k], (int(x) - int(20 * scale), int(y)), _FONT, scale, self._joints[k][0],
                        max(1, round(2 * scale)), cv2.LINE_AA)


def render_people(people, out_path: str | os.PathLike, *, score_threshold: float = 0.3, max_height: int = 1080,
                  crf: int = DEFAULT_CRF, preset: str = DEFAULT_PRESET, progress: Callable[[int], None] | None = None) -> Path:
    """Render a PeopleResult (vp3d.pipeline.people) to `out_path` (H.264, yuv420p, one output frame per
    decoded input frame, written atomically); returns the path."""
    info = probe(people.video.path)
    ps = people.people
    t_total = people.num_frames
    layout = get_layout(ps[0].result.keypoints.layout)
    left_w, left_h, resize = left_panel_size(info.width, info.height, max_height)
    px = np.array([left_w / info.width, left_h / info.height]) if resize else 1.0
    poses = np.full((len(ps), t_total, 17, 3), np.nan)
    for k, p in enumerate(ps):
        poses[k, p.first_frame:p.last_frame + 1] = p.result.poses3d
    order_x = np.array([np.nanmedian(p.result.keypoints.xy[..., 0]) for p in ps])
    labels = [f"#{p.track_id}" for p in ps]
    panel = PeoplePanel(poses, order_x, left_h, labels)
    thickness = skeleton_thickness(left_h)
    scale = left_h / 900

    def draw(t: int, left: np.ndarray, right: np.ndarray) -> None:
        for k, p in enumerate(ps):
            i = t - p.first_frame
            if not 0 <= i <= p.last_frame - p.first_frame:
                continue
            kp = p.result.keypoints
            xy = kp.xy[i] * px
            interpolated = not kp.detected[i]
            draw_skeleton_2d(left, xy, kp.score[i], layout, threshold=score_threshold, interpolated=interpolated,
                             thickness=thickness, colour=person_color(k), label_interpolated=False)
            head = xy[np.argmin(xy[:, 1])]
            text = labels[k] + (" interpolated" if interpolated else "")
            _label(left, text, (int(head[0]) - int(20 * scale), max(int(head[1] - 14 * scale), int(30 * scale))),
                   scale, person_color(k), max(1, round(2 * scale)))
        panel.draw(right, t)

    render_frames(people.video.path, out_path, (left_w, left_h), resize, info.fps, draw, crf=crf, preset=preset,
                  progress=progress)
    return Path(out_path)
