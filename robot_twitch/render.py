"""Rendering: frames of a limb from a camera, headless, with the muscles drawn on top.

Renderer. TinyRenderer (Bullet's CPU rasteriser) is the default and always works headless.
``select_renderer(sim, "auto")`` tries Bullet's eglRenderer plugin and keeps it only when the
OpenGL driver is a hardware one (not Mesa's llvmpipe/softpipe, which is slower than TinyRenderer
on a CPU) *and* a test frame actually shows the scene; otherwise it unloads the plugin and
falls back to TinyRenderer. The plugin's console chatter is silenced (file descriptors 1 and 2
are redirected while it loads). Note: the eglRenderer plugin only sees bodies loaded *after*
it, and Simulation builds its world in its constructor, so with the current Simulation the
test frame is empty and "auto" falls back to TinyRenderer; loading the plugin before the world
is built would need a hook in Simulation.

Muscle overlay. Every muscle is drawn along its path (LimbState.path_points_m projected with
the camera's view and projection matrices), coloured by its activation on a blue -> red ramp
with a line width that grows with activation; a twitch can flash its muscle with a bright
halo (``highlight``).

Skin. Taxels in contact are drawn as dots on a yellow (1 mN) -> red (1 N) log ramp.
"""

from __future__ import annotations

import contextlib
import os
import pkgutil
import tempfile
import weakref
from collections.abc import Iterator

import numpy as np
import pybullet
from PIL import Image, ImageDraw

from robot_twitch.envs.camera import CameraSpec
from robot_twitch.sim import Simulation

NEAR_M, FAR_M = 0.01, 20.0
RENDERERS: tuple[str, ...] = ("tiny", "egl", "auto")
SOFTWARE_GL = ("llvmpipe", "softpipe", "swrast", "software")

# Activation colour ramp: relaxed (dark blue) -> purple -> fully active (red), RGB 0..255.
RAMP_RGB = np.array([[40, 80, 210], [150, 50, 170], [235, 30, 30]], dtype=float)
FLASH_RGB = (255, 225, 0)

_BACKENDS: weakref.WeakKeyDictionary[Simulation, int] = weakref.WeakKeyDictionary()


# -- renderer selection ------------------------------------------------------------------
@contextlib.contextmanager
def _captured_fds() -> Iterator[list[str]]:
    """Redirect the C-level stdout/stderr into a temporary file; yields a list that receives
    the captured text on exit."""
    out: list[str] = []
    with tempfile.TemporaryFile(mode="w+b") as sink:
        saved = [os.dup(1), os.dup(2)]
        try:
            for fd in (1, 2):
                os.dup2(sink.fileno(), fd)
            yield out
        finally:
            for fd, keep in zip((1, 2), saved, strict=True):
                os.dup2(keep, fd)
                os.close(keep)
            sink.seek(0)
            out.append(sink.read().decode(errors="replace"))


def select_renderer(sim: Simulation, renderer: str = "tiny") -> int:
    """The Bullet renderer flag to use for ``sim``: "tiny" (TinyRenderer), "egl" (the
    eglRenderer plugin, even in software, if it renders the scene) or "auto" (EGL only on a
    hardware GPU). Falls back to TinyRenderer silently; the choice is cached per Simulation."""
    if renderer not in RENDERERS:
        raise ValueError(f"renderer {renderer!r} is invalid: expected one of {RENDERERS}")
    if renderer == "tiny":
        return pybullet.ER_TINY_RENDERER
    if sim in _BACKENDS:
        return _BACKENDS[sim]
    flag = pybullet.ER_TINY_RENDERER
    loader = pkgutil.get_loader("eglRenderer")
    if loader is not None and hasattr(loader, "get_filename"):
        client = sim.client
        with _captured_fds() as log:
            plugin = client.loadPlugin(loader.get_filename(), "_eglRendererPlugin")
        text = "".join(log).lower()
        hardware = not any(name in text for name in SOFTWARE_GL)
        if plugin >= 0 and (hardware or renderer == "egl") and _egl_shows_scene(sim):
            flag = pybullet.ER_BULLET_HARDWARE_OPENGL
        elif plugin >= 0:
            with _captured_fds():
                client.unloadPlugin(plugin)
    _BACKENDS[sim] = flag
    return flag


def _egl_shows_scene(sim: Simulation, width: int = 64, height: int = 48) -> bool:
    """Whether an EGL test frame shows about as many limb pixels as a TinyRenderer frame."""
    from robot_twitch.envs.camera import default_camera

    camera = default_camera(sim.body, samples=16, aspect=width / height)
    view, proj = camera_matrices(sim, camera, width, height)
    try:
        with _captured_fds():
            egl = sim.camera_image(width, height, view, proj, pybullet.ER_BULLET_HARDWARE_OPENGL)
    except Exception:
        return False
    tiny = sim.camera_image(width, height, view, proj, pybullet.ER_TINY_RENDERER)

    def fg(img: np.ndarray) -> np.ndarray:
        corner = img[0, 0].astype(int)
        return np.abs(img.astype(int) - corner).sum(axis=-1) > 30

    n_tiny, n_egl = int(fg(tiny).sum()), int(fg(egl).sum())
    return n_tiny > 0 and 0.5 * n_tiny <= n_egl <= 2.0 * n_tiny


# -- projection --------------------------------------------------------------------------
def camera_matrices(sim: Simulation | None, camera: CameraSpec, width: int,
                    height: int) -> tuple[np.ndarray, np.ndarray]:
    """View and projection matrices (4, 4) acting on column vectors, for a camera spec.

    ``sim`` is unused (kept for compatibility): the matrices are pure functions of the camera.
    """
    view = camera.view_matrix()
    proj = pybullet.computeProjectionMatrixFOV(camera.fov_deg, width / height, NEAR_M, FAR_M)
    return view, np.asarray(proj, dtype=float).reshape(4, 4, order="F")


def project_points(points_m: np.ndarray, view: np.ndarray, proj: np.ndarray, width: int,
                   height: int) -> np.ndarray:
    """Pixel coordinates (P, 2) (x right, y down; pixel centres at +0.5) of world points (P, 3).

    Points behind the camera get NaN.
    """
    points = np.asarray(points_m, dtype=float).reshape(-1, 3)
    homog = np.concatenate([points, np.ones((len(points), 1))], axis=1)
    clip = homog @ (proj @ view).T
    w = clip[:, 3:4]
    with np.errstate(divide="ignore", invalid="ignore"):
        ndc = clip[:, :2] / w
    ndc[w[:, 0] <= 1e-9] = np.nan
    px = (ndc[:, 0] + 1.0) * 0.5 * width
    py = (1.0 - ndc[:, 1]) * 0.5 * height
    return np.stack([px, py], axis=1)


def activation_rgb(activation: np.ndarray) -> np.ndarray:
    """Colours (M, 3) uint8 for activations (M,) in [0, 1] on the blue -> purple -> red ramp."""
    a = np.clip(np.nan_to_num(np.asarray(activation, dtype=float)), 0.0, 1.0) * (len(RAMP_RGB) - 1)
    lo = np.minimum(a.astype(int), len(RAMP_RGB) - 2)
    frac = (a - lo)[:, None]
    return np.round(RAMP_RGB[lo] * (1 - frac) + RAMP_RGB[lo + 1] * frac).astype(np.uint8)


def muscle_polylines(sim: Simulation, path_points_m: np.ndarray) -> list[list[np.ndarray]]:
    """For each muscle, its path as a list of segments, each segment (2, 3) world points [m]."""
    g = sim.body.paths.geometry
    out: list[list[np.ndarray]] = []
    for row in np.asarray(g.segment_muscle):
        segs = np.flatnonzero(row > 0)
        out.append([path_points_m[[g.segment_start[k], g.segment_end[k]]] for k in segs])
    return out


def draw_muscles(image: Image.Image, sim: Simulation, path_points_m: np.ndarray, activation: np.ndarray,
                 view: np.ndarray, proj: np.ndarray, highlight: np.ndarray | None = None,
                 offset_px: tuple[int, int] = (0, 0), viewport: tuple[int, int] | None = None) -> None:
    """Draw every muscle along its projected path onto ``image`` (in place).

    activation: (M,) in [0, 1] (colour and line width); highlight: optional (M,) in [0, 1],
    the strength of a twitch flash (a bright halo). ``viewport`` (width, height) is the size of
    the rendered scene inside ``image``, at ``offset_px``; default: the whole image.
    """
    width, height = viewport or image.size
    g = sim.body.paths.geometry
    pix = project_points(path_points_m, view, proj, width, height) + np.asarray(offset_px, float)
    act = np.clip(np.nan_to_num(np.asarray(activation, dtype=float)), 0.0, 1.0)
    colours = activation_rgb(act)
    scale = max(1.0, height / 240.0)
    base_w = 2.0 * scale
    owner = np.argmax(np.asarray(g.segment_muscle), axis=0)  # (G,) muscle of each segment
    draw = ImageDraw.Draw(image)
    flash = np.zeros_like(act) if highlight is None else np.clip(np.asarray(highlight, float), 0.0, 1.0)
    order = np.argsort(act, kind="stable")  # most active drawn last (on top)
    for pass_flash in (True, False):
        for m in order:
            if pass_flash and flash[m] <= 0.0:
                continue
            w = base_w * (1.0 + 1.5 * act[m])
            for k in np.flatnonzero(owner == m):
                a, b = pix[g.segment_start[k]], pix[g.segment_end[k]]
                if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
                    continue
                xy = [float(a[0]), float(a[1]), float(b[0]), float(b[1])]
                if pass_flash:
                    halo = int(round(w + 6.0 * scale * flash[m]))
                    draw.line(xy, fill=FLASH_RGB, width=halo)
                else:
                    draw.line(xy, fill=tuple(int(c) for c in colours[m]), width=int(round(w)))
    # attachment points: small dots
    r = 1.2 * scale
    for p in pix:
        if np.all(np.isfinite(p)):
            draw.ellipse([p[0] - r, p[1] - r, p[0] + r, p[1] + r], fill=(30, 30, 30))


def skin_rgb(force_n: np.ndarray) -> np.ndarray:
    """Colours (T, 3) uint8 for taxel forces (T,) [N]: yellow (1 mN) -> red (1 N and more), log scale."""
    level = np.clip((np.log10(np.maximum(np.asarray(force_n, dtype=float), 1e-3)) + 3.0) / 3.0, 0.0, 1.0)
    return np.round(np.stack([np.full_like(level, 255.0), 230.0 * (1.0 - level), 40.0 * (1.0 - level)],
                             axis=1)).astype(np.uint8)


def draw_skin(image: Image.Image, sim: Simulation, view: np.ndarray, proj: np.ndarray,
              min_force_n: float = 1e-3, viewport: tuple[int, int] | None = None) -> None:
    """Draw the taxels that feel at least ``min_force_n`` as dots coloured by force (in place).

    ``viewport`` (width, height): the rendered scene's size at the image's top left (default: all of it).
    """
    force = sim.state.skin_n
    active = np.flatnonzero(force >= min_force_n)
    if not len(active):
        return
    width, height = viewport or image.size
    layout = sim.body.skin
    rot, pos = sim.link_frames()
    world = layout.world_positions(rot, pos)[active]
    pix = project_points(world, view, proj, width, height)
    colours = skin_rgb(force[active])
    r = max(1.5, height / 160.0)
    draw = ImageDraw.Draw(image)
    for (x, y), colour in zip(pix, colours, strict=True):
        if np.isfinite(x) and np.isfinite(y):
            draw.ellipse([x - r, y - r, x + r, y + r], fill=tuple(int(c) for c in colour), outline=(90, 20, 0))


def render_limb(sim: Simulation, camera: CameraSpec, width: int, height: int, muscles: bool = True,
                renderer: str = "tiny", highlight: np.ndarray | None = None, skin: bool = True) -> np.ndarray:
    """One RGB frame (height, width, 3) uint8 of the limb, muscles drawn by activation and the
    touched taxels of a body with skin by force.

    ``muscles=False`` gives the bare Bullet image; ``renderer`` is "tiny", "egl" or "auto"
    (see select_renderer); ``highlight`` (M,) in [0, 1] flashes twitching muscles.
    """
    view, proj = camera_matrices(sim, camera, width, height)
    frame = sim.camera_image(width, height, view, proj, select_renderer(sim, renderer))
    if not muscles:
        return frame
    image = Image.fromarray(frame)
    state = sim.state
    draw_muscles(image, sim, state.path_points_m, state.activation, view, proj, highlight)
    if skin and sim.body.skin.n_taxels:
        draw_skin(image, sim, view, proj)
    return np.asarray(image)
