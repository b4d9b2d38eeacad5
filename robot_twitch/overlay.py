"""2-D overlays for demo videos, drawn with Pillow: caption bar and the side panels.

A side panel is a dict; its ``kind`` picks the drawing function (`PANEL_DRAWERS`, one per kind;
no ``kind``: "motor_map"). Every key is optional.

"motor_map" (video.MapPanel):
    ``learned``: (M, J) learned action map (any positive scale per row) or None before data; a
        NaN row (a muscle not commanded yet) is drawn blank (light grey);
    ``truth``: (M, J) true moment arms R(q) [m];
    ``row_labels`` / ``col_labels``: muscle / joint names.
Both heatmaps are shown row-normalised (each muscle's row divided by its largest |entry|) on a
blue-white-red scale, because the learners recover R only up to a positive scale per muscle.

"skinmap" (video.SkinMapPanel):
    ``node_rgb``: (rows, cols, 3) uint8, the map's nodes in their body part's colour (white: a
        node that wins no touched afferent) or None before data;
    ``legend``: sequence of (part name, (r, g, b) uint8);
    ``note``: a line under the map (e.g. how many afferents are touched).

Both kinds: ``curve``: sequence of (time_s, value) pairs, e.g. a score over time;
``curve_label``: text under the curve; ``curve_range``: (lo, hi) of its y axis; ``*_title``:
the map's title.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

PANEL_BG = (245, 245, 245)
TEXT_RGB = (20, 20, 20)


@lru_cache(maxsize=16)
def font(size_px: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Pillow's bundled font at ``size_px`` (bitmap fallback without FreeType)."""
    try:
        return ImageFont.load_default(size=size_px)
    except (TypeError, ValueError, OSError):  # pragma: no cover - Pillow < 10.1 or no FreeType
        return ImageFont.load_default()


def format_caption(caption: Mapping[str, Any]) -> str:
    """One line from caption fields: sleep_state, age_weeks, time_s, twitches, plus any extras."""
    parts: list[str] = []
    if caption.get("sleep_state") is not None:
        state = caption["sleep_state"]
        state = getattr(state, "value", state)
        parts.append(f"{state} sleep" if state in ("active", "quiet") else str(state))
    if caption.get("age_weeks") is not None:
        parts.append(f"{float(caption['age_weeks']):g} wk")
    if caption.get("time_s") is not None:
        parts.append(f"t={float(caption['time_s']):5.2f} s")
    if caption.get("twitches") is not None:
        parts.append(f"twitches {int(caption['twitches'])}")
    known = {"sleep_state", "age_weeks", "time_s", "twitches"}
    parts.extend(f"{k} {v}" for k, v in caption.items() if k not in known and v is not None)
    return " | ".join(parts)


def draw_caption(image: Image.Image, caption: Mapping[str, Any] | str, box: tuple[int, int, int, int]) -> None:
    """Caption text on a translucent bar at the top of ``box`` (x0, y0, x1, y1), in place."""
    text = caption if isinstance(caption, str) else format_caption(caption)
    if not text:
        return
    x0, y0, x1, _ = box
    size = max(9, int(round((x1 - x0) / 32)))
    f = font(size)
    draw = ImageDraw.Draw(image, "RGBA")
    bar_h = int(size * 1.6)
    draw.rectangle([x0, y0, x1, y0 + bar_h], fill=(255, 255, 255, 190))
    draw.text((x0 + size // 2, y0 + (bar_h - size) // 2 - 1), text, fill=TEXT_RGB, font=f)


def _diverging_rgb(values: np.ndarray) -> np.ndarray:
    """Colours (..., 3) uint8 for values in [-1, 1]: blue - white - red; NaN is grey."""
    v = np.clip(np.nan_to_num(values, nan=0.0), -1.0, 1.0)[..., None]
    white = np.array([255.0, 255.0, 255.0])
    blue, red = np.array([33.0, 102.0, 172.0]), np.array([178.0, 24.0, 43.0])
    rgb = np.where(v >= 0, white + v * (red - white), white - v * (blue - white))
    rgb = np.where(np.isnan(values)[..., None], 225.0, rgb)  # blank: nothing learned
    return np.round(rgb).astype(np.uint8)


def row_normalise(matrix: np.ndarray) -> np.ndarray:
    """Each row (M, J) divided by its largest |entry| (rows of zeros stay zero, rows with NaN --
    a muscle the learner knows nothing about yet -- stay NaN and are drawn blank)."""
    m = np.asarray(matrix, dtype=float)
    undefined = ~np.all(np.isfinite(m), axis=1, keepdims=True)
    m = np.where(undefined, 0.0, m)
    scale = np.max(np.abs(m), axis=1, keepdims=True)
    out = np.divide(m, scale, out=np.zeros_like(m), where=scale > 0)
    return np.where(undefined, np.nan, out)


def map_agreement(learned: np.ndarray, truth: np.ndarray) -> float:
    """Mean over muscles of the cosine similarity of learned and true rows (1 = same direction);
    a row that is NaN (not learned yet) counts 0."""
    a, b = np.asarray(learned, float), np.asarray(truth, float)
    defined = np.all(np.isfinite(a), axis=1)
    a = np.where(defined[:, None], a, 0.0)
    num = np.sum(a * b, axis=1)
    den = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    ok = np.linalg.norm(b, axis=1) > 0
    cos = np.divide(num, den, out=np.zeros_like(num), where=den > 0)
    return float(np.mean(cos[ok])) if ok.any() else float("nan")


def abbreviate(name: str, max_chars: int) -> str:
    """Short label: 'deltoid_anterior' -> 'deltoid_an' for max_chars=10 (keeps the last word's
    start, so that paired muscles stay distinguishable)."""
    if len(name) <= max_chars:
        return name
    parts = name.split("_")
    if len(parts) > 1 and max_chars >= 5:
        tail = parts[-1][:2]
        return parts[0][: max_chars - len(tail) - 1] + "_" + tail
    return name[:max_chars]


def _fit(draw: ImageDraw.ImageDraw, name: str, width_px: float, f: Any) -> str:
    """The longest abbreviation of ``name`` whose rendered width fits ``width_px``."""
    for n in range(len(name), 0, -1):
        text = abbreviate(name, n)
        if draw.textlength(text, font=f) <= width_px:
            return text
    return ""


def _heatmap(image: Image.Image, matrix: np.ndarray | None, shape: tuple[int, int], box: tuple[int, int, int, int],
             title: str, size: int, row_labels: Sequence[str] | None, col_labels: Sequence[str] | None) -> None:
    draw = ImageDraw.Draw(image)
    x0, y0, x1, y1 = box
    f = font(size)
    small = font(max(7, size - 2))
    draw.text((x0, y0), title, fill=TEXT_RGB, font=f)
    top = y0 + int(size * 1.4)
    n_rows, n_cols = shape
    show_cols = bool(col_labels) and (y1 - top) / max(n_rows + 1, 1) >= size
    bottom = y1 - (int(size * 1.2) if show_cols else 0)
    label_w = 0
    if row_labels and (bottom - top) / max(n_rows, 1) >= size:
        label_w = int(min(0.5 * (x1 - x0), max(draw.textlength(s, font=small) for s in row_labels[:n_rows]) + 4))
    grid_x0 = x0 + label_w
    cell_w = max(1, (x1 - grid_x0) // max(n_cols, 1))
    cell_h = max(1, (bottom - top) // max(n_rows, 1))
    values = np.full(shape, np.nan) if matrix is None else row_normalise(matrix)
    colours = _diverging_rgb(values)
    for i in range(n_rows):
        for j in range(n_cols):
            cx, cy = grid_x0 + j * cell_w, top + i * cell_h
            draw.rectangle([cx, cy, cx + cell_w - 1, cy + cell_h - 1], fill=tuple(int(c) for c in colours[i, j]),
                           outline=(200, 200, 200))
        if label_w and row_labels:
            draw.text((x0, top + i * cell_h + (cell_h - size) // 2), _fit(draw, row_labels[i], label_w - 4, small),
                      fill=TEXT_RGB, font=small)
    if show_cols and col_labels:
        for j, name in enumerate(col_labels[:n_cols]):
            draw.text((grid_x0 + j * cell_w + 2, top + n_rows * cell_h + 1), _fit(draw, name, cell_w - 4, small),
                      fill=TEXT_RGB, font=small)
    if matrix is None:
        draw.text((grid_x0 + 2, top + 2), "no data yet", fill=TEXT_RGB, font=small)


def _curve(image: Image.Image, points: Sequence[tuple[float, float]], box: tuple[int, int, int, int], label: str,
           y_range: tuple[float, float], size: int) -> None:
    draw = ImageDraw.Draw(image)
    x0, y0, x1, y1 = box
    f = font(max(7, size - 2))
    draw.rectangle([x0, y0, x1, y1], outline=(160, 160, 160), fill=(255, 255, 255))
    draw.text((x0 + 2, y1 + 1), label, fill=TEXT_RGB, font=f)
    pts = np.array([p for p in points if np.all(np.isfinite(p))], dtype=float).reshape(-1, 2)
    if len(pts) < 2:
        return
    t0, t1 = pts[0, 0], max(pts[-1, 0], pts[0, 0] + 1e-9)
    lo, hi = y_range
    xs = x0 + 1 + (pts[:, 0] - t0) / (t1 - t0) * (x1 - x0 - 2)
    ys = y1 - 1 - (np.clip(pts[:, 1], lo, hi) - lo) / (hi - lo) * (y1 - y0 - 2)
    draw.line(list(zip(xs.tolist(), ys.tolist(), strict=True)), fill=(200, 40, 40), width=max(1, size // 8))
    draw.text((x1 - 3 * size, y1 - size - 2), f"{pts[-1, 1]:.2f}", fill=TEXT_RGB, font=f)


def draw_panel(image: Image.Image, panel: Mapping[str, Any], box: tuple[int, int, int, int]) -> None:
    """The side panel inside ``box`` (x0, y0, x1, y1) of ``image``, in place, drawn by the function
    of its ``kind`` (`PANEL_DRAWERS`)."""
    kind = panel.get("kind", "motor_map")
    if kind not in PANEL_DRAWERS:
        raise ValueError(f"panel kind {kind!r} is unknown: expected one of {sorted(PANEL_DRAWERS)}")
    x0, y0, x1, y1 = box
    ImageDraw.Draw(image).rectangle(box, fill=PANEL_BG)
    size = max(8, int(round(min((x1 - x0) / 12, (y1 - y0) / 24))))  # text size [px]
    PANEL_DRAWERS[kind](image, panel, box, size)


def draw_motor_map_panel(image: Image.Image, panel: Mapping[str, Any], box: tuple[int, int, int, int],
                         size: int) -> None:
    """The motor-map panel: the learned map over the true R(q), and their agreement over time."""
    x0, y0, x1, y1 = box
    height = y1 - y0
    pad = max(2, size // 2)
    truth = panel.get("truth")
    learned = panel.get("learned")
    ref = truth if truth is not None else learned
    if ref is None:
        return
    shape = np.asarray(ref).shape
    rows, cols = panel.get("row_labels"), panel.get("col_labels")
    has_curve = bool(panel.get("curve"))
    curve_h = int(0.2 * height) if has_curve else 0
    map_h = (height - curve_h - 3 * pad - (2 * size if has_curve else 0)) // 2
    top = y0 + pad
    _heatmap(image, learned, shape, (x0 + pad, top, x1 - pad, top + map_h),
             str(panel.get("learned_title", "learned map")), size, rows, cols)
    top += map_h + pad
    _heatmap(image, truth, shape, (x0 + pad, top, x1 - pad, top + map_h), "true R(q)", size, rows, cols)
    if has_curve:
        top += map_h + pad + size
        _curve(image, panel["curve"], (x0 + pad, top, x1 - pad, top + curve_h),
               str(panel.get("curve_label", "agreement")), tuple(panel.get("curve_range", (0.0, 1.0))), size)


def draw_skinmap_panel(image: Image.Image, panel: Mapping[str, Any], box: tuple[int, int, int, int],
                       size: int) -> None:
    """The skin-map panel: the map's nodes in their body part's colour (a square grid, as large as
    fits), a legend of the parts, a note, and the score over time; in a small box the curve, the
    note and the legend are left out in that order until the grid has 3 px per node."""
    x0, y0, x1, y1 = box
    draw = ImageDraw.Draw(image)
    pad = max(2, size // 2)
    small = font(max(7, size - 2))
    grid = panel.get("node_rgb")
    n_rows, n_cols = (12, 12) if grid is None else np.asarray(grid).shape[:2]
    legend = list(panel.get("legend") or [])
    per_row = 2
    note = str(panel.get("note") or "")
    heights = {"legend": -(-len(legend) // per_row) * (size + 2) + pad if legend else 0,
               "note": size + 2 if note else 0,
               "curve": int(0.2 * (y1 - y0)) + size + 2 * pad}  # the curve, its label and the gap above
    title_h = int(size * 1.4)
    for dropped in ("curve", "note", "legend"):
        if y1 - y0 - pad - title_h - sum(heights.values()) >= 3 * n_rows:
            break
        heights[dropped] = 0
    top = y0 + pad
    draw.text((x0 + pad, top), str(panel.get("map_title", "skin map (learned)")), fill=TEXT_RGB, font=font(size))
    top += title_h
    room_h = y1 - top - sum(heights.values())
    cell = max(1, min((x1 - x0 - 2 * pad) // n_cols, room_h // n_rows))
    gx0 = x0 + pad + (x1 - x0 - 2 * pad - cell * n_cols) // 2
    for i in range(n_rows):
        for j in range(n_cols):
            rgb = (255, 255, 255) if grid is None else tuple(int(c) for c in grid[i, j])
            cx, cy = gx0 + j * cell, top + i * cell
            draw.rectangle([cx, cy, cx + cell - 1, cy + cell - 1], fill=rgb,
                           outline=(215, 215, 215) if cell >= 6 else None)
    if grid is None and cell * n_cols >= 4 * size:
        draw.text((gx0 + 2, top + 2), "no touch yet", fill=TEXT_RGB, font=small)
    top += n_rows * cell + pad
    if heights["legend"]:
        col_w = (x1 - x0 - 2 * pad) // per_row
        for k, (name, rgb) in enumerate(legend):
            lx, ly = x0 + pad + (k % per_row) * col_w, top + (k // per_row) * (size + 2)
            draw.rectangle([lx, ly + 1, lx + size - 2, ly + size - 1], fill=tuple(int(c) for c in rgb))
            draw.text((lx + size + 1, ly), _fit(draw, str(name), col_w - size - 3, small), fill=TEXT_RGB, font=small)
        top += heights["legend"]
    if heights["note"]:
        draw.text((x0 + pad, top), _fit(draw, note, x1 - x0 - 2 * pad, small), fill=TEXT_RGB, font=small)
        top += heights["note"]
    if heights["curve"]:
        top += pad
        _curve(image, panel.get("curve") or [], (x0 + pad, top, x1 - pad, top + int(0.2 * (y1 - y0))),
               str(panel.get("curve_label", "score")), tuple(panel.get("curve_range", (0.0, 1.0))), size)


PANEL_DRAWERS: dict[str, Callable[[Image.Image, Mapping[str, Any], tuple[int, int, int, int], int], None]] = {
    "motor_map": draw_motor_map_panel,
    "skinmap": draw_skinmap_panel,
}
"""Panel kind -> the function that draws it (image, panel, box, text size [px])."""
