"""Bounding boxes: non-max suppression (hard and soft, TF's greedy algorithm),
`draw_bounding_boxes` and `sample_distorted_bounding_box`. Boxes are
[y_min, x_min, y_max, x_max]; none of these ops is differentiable (as in TF)."""

from __future__ import annotations

import heapq

import numpy as np

from miniflow import dtypes, errors
from miniflow.core.dispatch import apply_op
from miniflow.core.registry import not_differentiable, register_op
from miniflow.ops import array_ops as _arr, random_ops as _random
from miniflow.ops.shape_rules import dims

# ---------------------------------------------------------------------------------------
# Non-max suppression.


def _iou_matrix(boxes):
    """Pairwise intersection over union (0 where a box has no area), in float32."""
    b = np.asarray(boxes, np.float32)
    y1, y2 = np.minimum(b[:, 0], b[:, 2]), np.maximum(b[:, 0], b[:, 2])
    x1, x2 = np.minimum(b[:, 1], b[:, 3]), np.maximum(b[:, 1], b[:, 3])
    area = (y2 - y1) * (x2 - x1)
    ih = np.maximum(np.minimum(y2[:, None], y2[None]) - np.maximum(y1[:, None], y1[None]), 0)
    iw = np.maximum(np.minimum(x2[:, None], x2[None]) - np.maximum(x1[:, None], x1[None]), 0)
    inter = ih * iw
    with np.errstate(divide="ignore", invalid="ignore"):
        iou = inter / (area[:, None] + area[None] - inter)
    empty = (area[:, None] <= 0) | (area[None] <= 0)
    return np.where(empty, np.float32(0), iou).astype(np.float32)


def _greedy(similarity, scores, max_output_size, threshold, score_threshold, sigma):
    """TF's NonMaxSuppressionV5 loop: candidates by score (ties: lower index first). Hard
    NMS drops a candidate more similar than ``threshold`` to a selected box; soft NMS
    (``sigma`` > 0) instead decays its score by exp(-sim^2 / (2 sigma)) and re-queues it
    while the score stays above ``score_threshold``."""
    scores = np.asarray(scores, np.float32)
    soft = sigma > 0
    scale = np.float32(-0.5 / sigma) if soft else np.float32(0)
    heap = [(-s, i, 0) for i, s in enumerate(scores) if s > score_threshold]
    heapq.heapify(heap)
    selected, selected_scores = [], []
    while len(selected) < max_output_size and heap:
        neg, i, begin = heapq.heappop(heap)
        score = original = -neg
        hard = False
        for j in range(len(selected) - 1, begin - 1, -1):
            sim = similarity[i, selected[j]]
            if not soft and sim > threshold:
                hard = True
                break
            score = np.float32(score * np.exp(scale * sim * sim))
            if score <= score_threshold:
                break
        if hard:
            continue
        if score == original:
            selected.append(i)
            selected_scores.append(score)
        elif score > score_threshold:
            heapq.heappush(heap, (-score, i, len(selected)))
    return (np.array(selected, np.int32), np.array(selected_scores, np.float32).reshape(-1))


def _check_nms(boxes, scores, what="boxes"):
    if np.ndim(boxes) != 2 or np.shape(boxes)[1] != 4:
        raise errors.InvalidArgumentError(
            None, None, f"{what} must be 2-D [num_boxes, 4], got shape {list(np.shape(boxes))}"
        )
    if np.shape(scores) != (np.shape(boxes)[0],):
        raise errors.InvalidArgumentError(
            None,
            None,
            f"scores must be 1-D with one score per box, got shape "
            f"{list(np.shape(scores))} for {np.shape(boxes)[0]} boxes",
        )


def _size(max_output_size):
    n = int(np.asarray(max_output_size))
    if n < 0:
        raise errors.InvalidArgumentError(None, None, f"max_output_size must be >= 0, got {n}")
    return n


@register_op(
    "NonMaxSuppressionV5",
    num_outputs=3,
    infer=lambda i, a: [((None,), dtypes.int32), ((None,), dtypes.float32), ((), dtypes.int32)],
)
def _nms(
    boxes,
    scores,
    max_output_size,
    iou_threshold,
    score_threshold,
    soft_nms_sigma,
    pad_to_max_output_size=False,
):
    _check_nms(boxes, scores)
    n = _size(max_output_size)
    iou = float(np.float32(iou_threshold))
    if not 0 <= iou <= 1:
        raise errors.InvalidArgumentError(None, None, f"iou_threshold must be in [0, 1], got {iou}")
    idx, sc = _greedy(
        _iou_matrix(boxes),
        scores,
        n,
        np.float32(iou),
        np.float32(score_threshold),
        float(soft_nms_sigma),
    )
    valid = np.int32(len(idx))
    if pad_to_max_output_size:
        idx = np.pad(idx, (0, n - len(idx)))
        sc = np.pad(sc, (0, n - len(sc)))
    return idx, sc, valid


@register_op("NonMaxSuppressionWithOverlaps", infer=lambda i, a: [((None,), dtypes.int32)])
def _nms_overlaps(overlaps, scores, max_output_size, overlap_threshold, score_threshold):
    if (
        np.ndim(overlaps) != 2
        or np.shape(overlaps)[0] != np.shape(overlaps)[1]
        or np.shape(scores) != np.shape(overlaps)[:1]
    ):
        raise errors.InvalidArgumentError(
            None,
            None,
            f"overlaps must be square [num_boxes, num_boxes] and scores "
            f"[num_boxes], got {list(np.shape(overlaps))} and {list(np.shape(scores))}",
        )
    return _greedy(
        np.asarray(overlaps, np.float32),
        scores,
        _size(max_output_size),
        np.float32(overlap_threshold),
        np.float32(score_threshold),
        0.0,
    )[0]


not_differentiable("NonMaxSuppressionV5", "NonMaxSuppressionWithOverlaps")


def _f32(v):
    return _arr.convert_to_tensor(v, dtype=dtypes.float32)


def _nms_call(boxes, scores, max_output_size, iou_threshold, score_threshold, sigma, pad, name):
    return apply_op(
        "NonMaxSuppressionV5",
        _f32(boxes),
        _f32(scores),
        _arr.convert_to_tensor(max_output_size, dtype=dtypes.int32),
        _f32(iou_threshold),
        _f32(score_threshold),
        _f32(sigma),
        pad_to_max_output_size=pad,
        name=name,
    )


def non_max_suppression(
    boxes, scores, max_output_size, iou_threshold=0.5, score_threshold=float("-inf"), name=None
):
    """Indices (int32) of at most ``max_output_size`` boxes, by decreasing score, none
    overlapping an earlier one by more than ``iou_threshold``."""
    return _nms_call(
        boxes, scores, max_output_size, iou_threshold, score_threshold, 0.0, False, name
    )[0]


def non_max_suppression_with_scores(
    boxes,
    scores,
    max_output_size,
    iou_threshold=0.5,
    score_threshold=float("-inf"),
    soft_nms_sigma=0.0,
    name=None,
):
    """(indices, scores) of the selected boxes; ``soft_nms_sigma`` > 0 is Soft-NMS
    (overlapping boxes' scores decay instead of being dropped)."""
    out = _nms_call(
        boxes, scores, max_output_size, iou_threshold, score_threshold, soft_nms_sigma, False, name
    )
    return out[0], out[1]


def non_max_suppression_padded(
    boxes,
    scores,
    max_output_size,
    iou_threshold=0.5,
    score_threshold=float("-inf"),
    pad_to_max_output_size=False,
    name=None,
    sorted_input=False,
    canonicalized_coordinates=False,
    tile_size=512,
):
    """(indices, number of valid indices); indices zero-padded to ``max_output_size``
    when ``pad_to_max_output_size`` (one image: boxes [num_boxes, 4])."""
    out = _nms_call(
        boxes,
        scores,
        max_output_size,
        iou_threshold,
        score_threshold,
        0.0,
        bool(pad_to_max_output_size),
        name,
    )
    return out[0], out[2]


def non_max_suppression_overlaps(
    overlaps,
    scores,
    max_output_size,
    overlap_threshold=0.5,
    score_threshold=float("-inf"),
    name=None,
):
    """Greedy selection like `non_max_suppression`, from a given overlap matrix."""
    return apply_op(
        "NonMaxSuppressionWithOverlaps",
        _f32(overlaps),
        _f32(scores),
        _arr.convert_to_tensor(max_output_size, dtype=dtypes.int32),
        _f32(overlap_threshold),
        _f32(score_threshold),
        name=name,
    )


@register_op(
    "CombinedNonMaxSuppression",
    num_outputs=4,
    infer=lambda i, a: [
        ((None, None, 4), dtypes.float32),
        ((None, None), dtypes.float32),
        ((None, None), dtypes.float32),
        ((None,), dtypes.int32),
    ],
)
def _combined_nms(
    boxes,
    scores,
    max_output_size_per_class,
    max_total_size,
    iou_threshold,
    score_threshold,
    pad_per_class=False,
    clip_boxes=True,
):
    boxes, scores = np.asarray(boxes, np.float32), np.asarray(scores, np.float32)
    if (
        boxes.ndim != 4
        or boxes.shape[3] != 4
        or scores.ndim != 3
        or scores.shape[:2] != boxes.shape[:2]
        or boxes.shape[2] not in (1, scores.shape[2])
    ):
        raise errors.InvalidArgumentError(
            None,
            None,
            f"boxes must be [batch, num_boxes, q, 4] with q 1 or num_classes and "
            f"scores [batch, num_boxes, num_classes], got {list(boxes.shape)} and "
            f"{list(scores.shape)}",
        )
    per_class, total = _size(max_output_size_per_class), _size(max_total_size)
    n_classes = scores.shape[2]
    size = min(per_class * n_classes, total) if pad_per_class else total
    out_boxes = np.zeros((len(boxes), size, 4), np.float32)
    out_scores = np.zeros((len(boxes), size), np.float32)
    out_classes = np.zeros((len(boxes), size), np.float32)
    valid = np.zeros(len(boxes), np.int32)
    for b in range(len(boxes)):
        found = []
        for k in range(n_classes):
            class_boxes = boxes[b, :, 0 if boxes.shape[2] == 1 else k]
            idx, sc = _greedy(
                _iou_matrix(class_boxes),
                scores[b, :, k],
                per_class,
                np.float32(iou_threshold),
                np.float32(score_threshold),
                0.0,
            )
            found += [(s, k, class_boxes[i]) for i, s in zip(idx, sc)]
        found.sort(key=lambda r: -r[0])
        found = found[:size]
        valid[b] = len(found)
        for j, (sc, k, box) in enumerate(found):
            out_boxes[b, j] = np.clip(box, 0, 1) if clip_boxes else box
            out_scores[b, j], out_classes[b, j] = sc, k
    return out_boxes, out_scores, out_classes, valid


not_differentiable("CombinedNonMaxSuppression")


def combined_non_max_suppression(
    boxes,
    scores,
    max_output_size_per_class,
    max_total_size,
    iou_threshold=0.5,
    score_threshold=float("-inf"),
    pad_per_class=False,
    clip_boxes=True,
    name=None,
):
    """Per-class NMS over a batch, merged by score: (nmsed_boxes [batch, max_total_size,
    4], nmsed_scores, nmsed_classes, valid_detections), zero-padded."""
    out = apply_op(
        "CombinedNonMaxSuppression",
        _f32(boxes),
        _f32(scores),
        _arr.convert_to_tensor(max_output_size_per_class, dtype=dtypes.int32),
        _arr.convert_to_tensor(max_total_size, dtype=dtypes.int32),
        _f32(iou_threshold),
        _f32(score_threshold),
        pad_per_class=bool(pad_per_class),
        clip_boxes=bool(clip_boxes),
        name=name,
    )
    return tuple(out)


# ---------------------------------------------------------------------------------------
# Drawing boxes.

_COLORS = np.array(
    [
        [1, 1, 0, 1],
        [0, 0, 1, 1],
        [1, 0, 0, 1],
        [0, 1, 0, 1],
        [0.5, 0, 0.5, 1],
        [0.5, 0.5, 0, 1],
        [0.5, 0, 0, 1],
        [0, 0, 0.5, 1],
        [0, 1, 1, 1],
        [1, 0, 1, 1],
    ],
    np.float32,
)


@register_op("DrawBoundingBoxesV2", infer=lambda i, a: [(dims(i[0]), i[0].dtype)])
def _draw_boxes(images, boxes, colors):
    images = np.array(images)
    if images.ndim != 4 or images.shape[3] not in (1, 3, 4):
        raise errors.InvalidArgumentError(
            None,
            None,
            f"images must be 4-D [batch, height, width, depth] with depth 1, 3 "
            f"or 4, got shape {list(images.shape)}",
        )
    boxes = np.asarray(boxes, np.float32)
    if boxes.ndim != 3 or boxes.shape[0] != images.shape[0] or boxes.shape[2] != 4:
        raise errors.InvalidArgumentError(
            None,
            None,
            f"boxes must be [batch, num_boxes, 4] matching the images' batch, "
            f"got shape {list(boxes.shape)}",
        )
    table = np.array(colors, np.float32) if np.size(colors) else _COLORS.copy()
    if images.shape[3] == 1:
        table[:, 0] = 1  # grayscale boxes are all white, as in TF
    _, h, w, depth = images.shape
    for b in range(images.shape[0]):
        for k, (y1, x1, y2, x2) in enumerate(boxes[b]):
            color = np.resize(table[k % len(table)], depth).astype(images.dtype)
            top, bottom = int(y1 * np.float32(h - 1)), int(y2 * np.float32(h - 1))
            left, right = int(x1 * np.float32(w - 1)), int(x2 * np.float32(w - 1))
            if top > bottom or left > right or top >= h or bottom < 0 or left >= w or right < 0:
                continue  # inverted or entirely outside: TF skips it
            cols = slice(max(left, 0), min(right, w - 1) + 1)
            rows = slice(max(top, 0), min(bottom, h - 1) + 1)
            if top >= 0:
                images[b, top, cols] = color
            if bottom < h:
                images[b, bottom, cols] = color
            if left >= 0:
                images[b, rows, left] = color
            if right < w:
                images[b, rows, right] = color
    return images


not_differentiable("DrawBoundingBoxesV2")


def draw_bounding_boxes(images, boxes, name=None, colors=None):
    """``images`` [batch, h, w, depth] with the outlines of normalized ``boxes``
    [batch, num_boxes, 4] drawn in ``colors`` (RGBA rows; TF's table by default)."""
    images = _arr.convert_to_tensor(images, name="images")
    if images.dtype not in (dtypes.float32, dtypes.float16):
        raise TypeError(
            f"Value passed to parameter 'images' has DataType "
            f"{images.dtype.name} not in list of allowed values: float32, float16"
        )
    colors = np.zeros((0, 4), np.float32) if colors is None else colors
    return apply_op("DrawBoundingBoxesV2", images, _f32(boxes), _f32(colors), name=name)


# ---------------------------------------------------------------------------------------
# Random crops that cover annotated boxes (TF's SampleDistortedBoundingBox algorithm).


def _random_crop(rng, width, height, min_area, max_area, aspect):
    def rint(v):
        return int(np.rint(np.float32(v)))

    height_c = rint(np.sqrt(np.float32(min_area) / aspect))
    max_height = rint(np.sqrt(np.float32(max_area) / aspect))
    if rint(max_height * aspect) > width:
        max_height = int((width + 0.5 - 1e-7) / aspect)
    max_height = min(max_height, height)
    height_c = min(height_c, max_height)
    if height_c < max_height:
        height_c += int(rng.integers(0, max_height - height_c + 1))
    width_c = rint(height_c * aspect)
    area = width_c * height_c
    if area < min_area:
        height_c += 1
        width_c = rint(height_c * aspect)
        area = width_c * height_c
    if area > max_area:
        height_c -= 1
        width_c = rint(height_c * aspect)
        area = width_c * height_c
    if (
        area < min_area
        or area > max_area
        or width_c > width
        or height_c > height
        or width_c <= 0
        or height_c <= 0
    ):
        return None
    y = int(rng.integers(0, height - height_c)) if height_c < height else 0
    x = int(rng.integers(0, width - width_c)) if width_c < width else 0
    return x, y, x + width_c, y + height_c


def _covers(crop, boxes, min_covered):
    x0, y0, x1, y1 = crop
    if (x1 - x0) * (y1 - y0) < 1:
        return False
    for bx0, by0, bx1, by1 in boxes:
        area = (bx1 - bx0) * (by1 - by0)
        if area < 1:
            continue
        inter = max(min(x1, bx1) - max(x0, bx0), 0) * max(min(y1, by1) - max(y0, by0), 0)
        if inter / area >= min_covered:
            return True
    return False


def _sample_box(
    rng,
    image_size,
    bounding_boxes,
    min_object_covered,
    aspect_ratio_range=(),
    area_range=(),
    max_attempts=100,
    use_image_if_no_bounding_boxes=False,
    seed=None,
    seed2=None,
):
    height, width = (int(v) for v in np.asarray(image_size).reshape(-1)[:2])
    boxes = np.asarray(bounding_boxes, np.float32).reshape(-1, 4)
    if not len(boxes):
        if not use_image_if_no_bounding_boxes:
            raise errors.InvalidArgumentError(
                None,
                None,
                "No bounding boxes provided as input. One must enable "
                "use_image_if_no_bounding_boxes if you wish to not provide any bounding boxes.",
            )
        boxes = np.array([[0, 0, 1, 1]], np.float32)
    rects = [
        (int(b[1] * width), int(b[0] * height), int(b[3] * width), int(b[2] * height))
        for b in boxes
    ]
    lo_ar, hi_ar = aspect_ratio_range
    total = width * height
    crop = None
    for _ in range(max_attempts):
        aspect = np.float32(rng.random() * (hi_ar - lo_ar) + lo_ar)
        candidate = _random_crop(
            rng, width, height, area_range[0] * total, area_range[1] * total, aspect
        )
        if candidate is not None and _covers(candidate, rects, float(min_object_covered)):
            crop = candidate
            break
    x0, y0, x1, y1 = crop if crop is not None else (0, 0, width, height)
    begin = np.array([y0, x0, 0], np.asarray(image_size).dtype)
    size = np.array([y1 - y0, x1 - x0, -1], np.asarray(image_size).dtype)
    box = np.array([[[y0 / height, x0 / width, y1 / height, x1 / width]]], np.float32)
    return begin, size, box


register_op(
    "SampleDistortedBoundingBoxV2",
    num_outputs=3,
    stateful=True,
    make_state=_random._rng,
    infer=lambda i, a: [((3,), i[0].dtype), ((3,), i[0].dtype), ((1, 1, 4), dtypes.float32)],
)(_sample_box)
not_differentiable("SampleDistortedBoundingBoxV2")


def sample_distorted_bounding_box(
    image_size,
    bounding_boxes,
    seed=None,
    seed2=None,
    min_object_covered=0.1,
    aspect_ratio_range=None,
    area_range=None,
    max_attempts=None,
    use_image_if_no_bounding_boxes=None,
    name=None,
):
    """(begin, size, bbox) of a random crop of an ``image_size`` [h, w, c] image that
    covers at least ``min_object_covered`` of one of ``bounding_boxes`` [batch, n, 4]
    (for `tf.slice`, and for `draw_bounding_boxes`). The draws are miniflow's own."""
    graph_seed, op_seed = _random.get_seed(seed)
    if seed2 is not None and seed is not None:
        op_seed = seed2
    ranges = [float(v) for v in (aspect_ratio_range or (0.75, 1.33))]
    areas = [float(v) for v in (area_range or (0.05, 1.0))]
    if len(ranges) != 2 or len(areas) != 2 or not 0 < areas[0] <= areas[1] <= 1:
        raise ValueError(
            "aspect_ratio_range and area_range must be pairs [low, high]; the "
            f"area range within (0, 1], got {ranges} and {areas}"
        )
    out = apply_op(
        "SampleDistortedBoundingBoxV2",
        _arr.convert_to_tensor(image_size, preferred_dtype=dtypes.int32),
        _f32(bounding_boxes),
        _f32(min_object_covered),
        aspect_ratio_range=tuple(ranges),
        area_range=tuple(areas),
        max_attempts=int(max_attempts or 100),
        use_image_if_no_bounding_boxes=bool(use_image_if_no_bounding_boxes),
        seed=graph_seed,
        seed2=op_seed,
        name=name,
    )
    return out[0], out[1], out[2]
