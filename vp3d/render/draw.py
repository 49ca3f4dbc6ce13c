"""Drawing the side-by-side video's two panels, on plain arrays (no video I/O; vp3d.render.video runs the loop).

Left: a 2D skeleton over the input picture (draw_skeleton_2d). Right: the 3D panel (Pose3DPanel), one
person or several. Everything is drawn with OpenCV primitives (no matplotlib): the reference's matplotlib
render manages about 7 frames/s, this one is limited by the H.264 encoder.

Colours (BGR): one untracked person is drawn with LEFT_COLOR for its left side, RIGHT_COLOR for its right
side and CENTRE_COLOR for the spine/head chain, in both panels; tracked people (`--people`) each in their
own colour of PERSON_COLORS (right side lighter), labelled with their track id.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from ..skeleton import H36M, Layout, joint_side


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
# BGR, distinct on most footage and none of them grey (grey means "interpolated").
PERSON_COLORS = ((255, 150, 30), (40, 40, 230), (60, 200, 60), (0, 200, 255), (200, 80, 200),
                 (230, 230, 0), (0, 120, 255), (150, 90, 40))



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


def person_color(k: int) -> tuple[int, int, int]:
    """Colour of the k-th person drawn (cycling through PERSON_COLORS)."""
    return PERSON_COLORS[k % len(PERSON_COLORS)]


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
    """Square panel with the 3D skeletons (Human3.6M-17) of one person or several, by orthographic projection.

    poses: (P, T, 17, 3) metres, camera frame (x right, y down, z forward), root-relative; NaN where a person
        is absent. The panel's scale, floor and layout come from these poses; `draw` then draws any pose.
    labels: None for one untracked person (P == 1), drawn in the left/right/centre colours under a legend;
        else one label per person ("#3"): each drawn in its own colour (PERSON_COLORS, in this order) with
        its label above, side by side in the order they stand in the image (order_x: (P,) pixels, e.g. the
        median x of their 2D keypoints), spaced by the widest arm reach of anyone plus 0.3 m so they never
        overlap.
    trajectory: optional (T, 3) camera-frame root positions in metres of the one unlabelled person; the view
        then follows the root horizontally and the floor grid slides underneath (a plain translation).
    The poses are shown in a y-up world (x right, y up = -camera y, z depth), from a viewer turned
    `azimuth_deg` about the vertical axis (positive: to the right of the original camera) and raised
    `elevation_deg` above the horizon. Scale, floor height and vertical centre are fixed for the whole video
    (from the extent of `poses`), so the bodies' size and height do not "breathe" from frame to frame. The
    floor grid lies at the lowest foot height. margin > 1 leaves room for poses wider than these (a panel
    built from the start of a clip while detection still runs, vp3d.render.video).
    """

    FEET = (3, 6)  # Human3.6M right_foot, left_foot
    UP = np.array([1.0, -1.0, 1.0])  # camera y is down; the world's y is up

    def __init__(self, poses: np.ndarray, size: int, *, labels: list[str] | None = None,
                 order_x: np.ndarray | None = None, trajectory: np.ndarray | None = None,
                 azimuth_deg: float = 35.0, elevation_deg: float = 15.0, antialias: bool = True,
                 margin: float = 1.0):
        poses = np.asarray(poses, dtype=np.float64)
        if poses.ndim != 4 or poses.shape[2:] != (H36M.num_joints, 3):
            raise ValueError(f"poses must be (P, T, 17, 3) in Human3.6M order, got {poses.shape}")
        people, frames = poses.shape[:2]
        if (labels is None) != (people == 1 and order_x is None) or (labels is not None and len(labels) != people):
            raise ValueError(f"one unlabelled person, or a label and an image position for each of {people}")
        if trajectory is not None and labels is not None:
            raise ValueError("only one unlabelled person follows a trajectory")
        self.size, self.labels = int(size), labels
        self.line_type = cv2.LINE_AA if antialias else cv2.LINE_8
        world = poses * self.UP
        if trajectory is not None:
            trajectory = np.asarray(trajectory, dtype=np.float64)
            if trajectory.shape != (frames, 3):
                raise ValueError(f"trajectory must be ({frames}, 3), got {trajectory.shape}")
            world = world + (trajectory * self.UP)[None, :, None, :]
        self.offsets = np.zeros((people, 3))  # (P, 3) metres: where each person stands in the panel
        if labels is not None:
            spacing = 2 * np.nanmax(np.abs(world[..., 0])) + 0.3
            rank = np.argsort(np.argsort(order_x))
            self.offsets[:, 0] = (rank - (people - 1) / 2) * spacing
            world = world + self.offsets[:, None, None]
        valid = np.isfinite(world).all(axis=(2, 3))  # (P, T)
        if not valid.any():
            raise ValueError("poses holds no finite pose")
        floor = float(np.nanmin(world[valid][:, self.FEET, 1]))
        top = float(np.nanmax(world[valid][:, :, 1]))
        # Centre: the root's horizontal position (fixed at 0 without a trajectory), midway between floor and top.
        centre = np.zeros((frames, 3))
        if trajectory is not None:
            centre[:, 0], centre[:, 2] = world[0, :, 0, 0], world[0, :, 0, 2]
            centre[~valid[0]] = 0.0
        centre[:, 1] = 0.5 * (floor + top)
        rel = world - centre[None, :, None, :]
        radius = margin * max(float(np.nanmax(np.linalg.norm(rel[valid], axis=-1))), 0.3)
        # Orthographic projection never lengthens a vector, so a radius that fits keeps every view inside.
        self.pixels_per_metre = 0.46 * self.size / radius
        self.floor = floor
        self.centre = np.array([0.0, centre[0, 1], 0.0])  # the view centre when it does not follow a root
        self.follow = trajectory is not None
        self.grid_step = _nice_step(radius / 3)
        self.grid_half = self.grid_step * math.ceil(radius / self.grid_step)
        self._axes = view_axes(azimuth_deg, elevation_deg)
        if labels is None:
            self._bones, self._joints = [bone_colors(H36M)], [joint_colors(H36M)]
        else:
            self._bones = [person_bone_colors(H36M, person_color(k)) for k in range(people)]
            self._joints = [person_joint_colors(H36M, person_color(k)) for k in range(people)]
            above = np.stack([self.offsets[:, 0], np.full(people, top + 0.1), np.zeros(people)], 1)
            self._label_at = self._project(above - self.centre)[:, :2]
        self.thickness = max(2, round(self.size / 240))
        self._static = None if self.follow else self._background(self.centre)

    def _project(self, pts: np.ndarray) -> np.ndarray:
        """(N, 3) world offsets from the view centre -> (N, 3): panel pixel x, pixel y, depth."""
        v = pts @ self._axes.T
        half = self.size / 2
        return np.stack([half + v[:, 0] * self.pixels_per_metre,
                         half - v[:, 1] * self.pixels_per_metre, v[:, 2]], axis=1)

    def _background(self, centre: np.ndarray) -> np.ndarray:
        """The floor grid (world-fixed lines around the view centre (3,)) and, for one person, the legend."""
        img = np.empty((self.size, self.size, 3), np.uint8)
        img[:] = PANEL_BACKGROUND
        s, h = self.grid_step, self.grid_half
        xs = np.arange(math.floor((centre[0] - h) / s), math.ceil((centre[0] + h) / s) + 1) * s
        zs = np.arange(math.floor((centre[2] - h) / s), math.ceil((centre[2] + h) / s) + 1) * s
        # One person: lines between the outer grid lines; several: a square of half side grid_half (equal
        # unless rounding puts grid_half / grid_step just above a whole number).
        x0, x1, z0, z1 = (xs[0], xs[-1], zs[0], zs[-1]) if self.labels is None else (-h, h, -h, h)
        segs = [((x, z0), (x, z1)) for x in xs] + [((x0, z), (x1, z)) for z in zs]
        pts = np.array([[a[0], self.floor, a[1]] for seg in segs for a in seg]) - centre
        pix = self._project(pts)[:, :2]
        for k in range(len(segs)):
            cv2.line(img, _fixed(pix[2 * k]), _fixed(pix[2 * k + 1]), GRID_COLOR, 1, self.line_type, _SHIFT)
        if self.labels is None:
            scale = self.size / 900
            th = max(1, round(2 * scale))
            cv2.putText(img, "left", (int(14 * scale) + 2, int(36 * scale) + 4), _FONT, scale, LEFT_COLOR, th,
                        cv2.LINE_AA)
            cv2.putText(img, "right", (int(90 * scale) + 2, int(36 * scale) + 4), _FONT, scale, RIGHT_COLOR, th,
                        cv2.LINE_AA)
        return img

    def pixels(self, pose: np.ndarray, k: int = 0, root: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Person k's pose (17, 3) (metres, camera frame, root-relative; `root` (3,): its camera-frame root,
        followed when the panel has a trajectory) -> its panel pixels (17, 2) and depths (17,), larger =
        farther, and the view centre (3,) they were projected around."""
        world = np.asarray(pose, np.float64) * self.UP
        centre = self.centre.copy()
        if self.follow and root is not None:
            world = world + np.asarray(root, np.float64) * self.UP
            centre[0], centre[2] = world[0, 0], world[0, 2]
        elif self.labels is not None:
            world = world + self.offsets[k]
        proj = self._project(world - centre)
        return proj[:, :2], proj[:, 2], centre

    def draw(self, out: np.ndarray, poses: np.ndarray | None = None, root: np.ndarray | None = None) -> None:
        """Draw one frame into `out` ((size, size, 3) uint8, e.g. a slice of the output canvas).

        poses: (P, 17, 3) metres, camera frame, root-relative, a person absent on this frame NaN (None: the
        background only); root: (3,) the one person's camera-frame root position on this frame."""
        shown = [] if poses is None else [(k, *self.pixels(pose, k, root)) for k, pose in enumerate(poses)
                                          if np.isfinite(pose).all()]
        centre = shown[0][3] if self.follow and shown else self.centre
        out[:] = self._static if self._static is not None else self._background(centre)
        scale = self.size / 900
        for k, pix, depth, _ in shown:
            draw_pose_3d(out, pix, depth, self._bones[k], self._joints[k], self.thickness, self.line_type)
            if self.labels is not None:
                x, y = self._label_at[k]
                cv2.putText(out, self.labels[k], (int(x) - int(20 * scale), int(y)), _FONT, scale,
                            self._joints[k][0], max(1, round(2 * scale)), cv2.LINE_AA)

def draw_pose_3d(out: np.ndarray, pix: np.ndarray, depth: np.ndarray, bones, joint_colours, thickness: int,
                 line_type: int) -> None:
    """One projected skeleton: pix (J, 2) panel pixels, depth (J,) larger = farther; bones as bone_colors."""
    # Painter's order: far bones first, so the near limbs stay on top.
    for (p, j), colour in sorted(bones, key=lambda b: -(depth[b[0][0]] + depth[b[0][1]])):
        cv2.line(out, _fixed(pix[p]), _fixed(pix[j]), colour, thickness, line_type, _SHIFT)
    for j in np.argsort(-depth):
        cv2.circle(out, _fixed(pix[j]), (thickness + 1) * _ONE, joint_colours[j], -1, line_type, _SHIFT)


# ------------------------------------------------------------------------------------------------ layout

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
