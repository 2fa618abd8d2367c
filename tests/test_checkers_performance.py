"""Notebook 07's checkers (throughput, honest timing, decode-once cache, freezing) against mistakes catalogues: what
attendees get wrong, hostile returns, and right answers in other styles (see checker_catalogue.py)."""

import copy
import statistics
import threading
import time

import numpy as np
import pytest
import torch
from PIL import Image

from workshop_utils.checkers.performance import (THROUGHPUT_CASES, check_decoded_cache, check_freeze_all_but_last,
                                                 check_throughput, check_timed_training, reference_images_per_second,
                                                 reference_speedup, reference_time_training)
from workshop_utils.data.loaders import composite_on_white
from workshop_utils.performance import decode_png_cache, freeze_all_but_last, synchronize

from checker_catalogue import NAN, assert_case, hostile, ids, mistake, raises, returns, right, stub

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tiny models: one thread is fastest on busy cores

THROUGHPUT = "Exercise 07.1 (throughput and speed-up)"
TIMING = "Exercise 07.2 (timing a GPU honestly)"
CACHE = "Exercise 07.3 (decode-once cache)"
FREEZE = "Exercise 07.4 (freeze all but the last layer)"


def fails_with(feedback, words, label):
    assert not feedback
    assert feedback.text().startswith(f"❌ {label}"), feedback.text()
    assert words in feedback.text(), feedback.text()


# -- 07.1 throughput and speed-up ------------------------------------------------------------------

def throughput_right(step_seconds, batch_sizes, warmup):
    timed_images = sum(batch_sizes[warmup:])
    return timed_images / sum(step_seconds[warmup:])


def throughput_numpy(step_seconds, batch_sizes, warmup):
    return np.sum(batch_sizes[warmup:]) / np.sum(step_seconds[warmup:])


def throughput_pops(step_seconds, batch_sizes, warmup):
    for _ in range(warmup):
        step_seconds.pop(0)
        batch_sizes.pop(0)
    return sum(batch_sizes) / sum(step_seconds)


def with_reference_speedup(images_per_second):
    return images_per_second, reference_speedup


def with_reference_throughput(speedup):
    return reference_images_per_second, speedup


THROUGHPUT_CATALOGUE = [
    right("the references", (reference_images_per_second, reference_speedup)),
    right("sums", (throughput_right, lambda new, base: new / base)),
    right("NumPy", with_reference_speedup(throughput_numpy)),
    right("a tensor", with_reference_speedup(lambda s, b, w: torch.tensor(b[w:]).sum() / torch.tensor(s[w:]).sum())),
    right("a loop", with_reference_speedup(lambda s, b, w: sum(n for i, n in enumerate(b) if i >= w)
                                           / sum(t for i, t in enumerate(s) if i >= w))),
    right("speed-up as a NumPy float", with_reference_throughput(lambda new, base: np.float64(new) / base)),
    mistake("seconds per image", with_reference_speedup(lambda s, b, w: sum(s[w:]) / sum(b[w:])), "seconds per image"),
    mistake("warm-up counted", with_reference_speedup(lambda s, b, w: sum(b) / sum(s)), "warm-up steps were counted"),
    mistake("batches per second", with_reference_speedup(lambda s, b, w: len(s[w:]) / sum(s[w:])), "batches per second"),
    mistake("mean of rates", with_reference_speedup(lambda s, b, w: statistics.mean(n / t for n, t in zip(b[w:], s[w:]))),
            "averaged each step's rate"),
    mistake("full batches", with_reference_speedup(lambda s, b, w: b[0] * len(s[w:]) / sum(s[w:])), "every batch is full"),
    mistake("one step too many skipped", with_reference_speedup(lambda s, b, w: sum(b[w + 1:]) / sum(s[w + 1:])),
            "one step too many"),
    mistake("pops the lists", with_reference_speedup(throughput_pops), "changed the lists"),
    mistake("a tuple", with_reference_speedup(lambda s, b, w: (sum(b[w:]), sum(s[w:]))), "expected a number, got a tuple"),
    mistake("division by zero", with_reference_speedup(lambda s, b, w: sum(b[w:]) / 0), "raised ZeroDivisionError"),
    mistake("speed-up upside down", with_reference_throughput(lambda new, base: base / new), "upside down"),
    mistake("speed-up as a difference", with_reference_throughput(lambda new, base: new - base), "difference"),
    mistake("speed-up as a gain", with_reference_throughput(lambda new, base: (new - base) / base), "gain"),
    mistake("speed-up in percent", with_reference_throughput(lambda new, base: 100 * new / base), "percentage"),
    mistake("speed-up as a bool", with_reference_throughput(lambda new, base: new / base > 1), "got a Python bool"),
    hostile("None", with_reference_speedup(returns(None)), "expected a number, got None"),
    hostile("stub", (stub, stub), "not done yet"),
    hostile("raises", with_reference_speedup(raises), "raised ValueError"),
    hostile("a string", with_reference_speedup(returns("fast")), "expected a number"),
    hostile("NaN", with_reference_speedup(returns(NAN)), "the result is nan"),
    hostile("a number typed in", with_reference_speedup(returns(123.0)), "wrong number of images per second"),
    hostile("the first example's answer typed in",
            with_reference_speedup(returns(reference_images_per_second(*THROUGHPUT_CASES[0]))), "earlier example"),
    hostile("the first speed-up typed in", with_reference_throughput(returns(3.0)), "earlier example"),
]


@pytest.mark.parametrize("case", THROUGHPUT_CATALOGUE, ids=ids(THROUGHPUT_CATALOGUE))
def test_throughput_catalogue(case):
    assert_case(check_throughput, case)


# -- 07.2 timing with synchronize ------------------------------------------------------------------

def timing_per_step(train_step, batches, device, warmup=2):
    for images, labels in batches[:warmup]:
        train_step(images.to(device, non_blocking=True), labels.to(device, non_blocking=True))
    total_seconds, total_images = 0.0, 0
    for images, labels in batches[warmup:]:
        synchronize(device)
        started = time.perf_counter()
        train_step(images.to(device, non_blocking=True), labels.to(device, non_blocking=True))
        synchronize(device)
        total_seconds += time.perf_counter() - started
        total_images += images.shape[0]
    return total_images / total_seconds


def timing_variant(*, first_sync=True, last_sync=True, non_blocking=True, move=True, count="images",
                   clock_before_warmup=False, cuda_sync=False, use_cuda=False):
    """The reference with one thing changed: a typical mistake."""
    def time_training(train_step, batches, device, warmup=2):
        def copy_to_device(tensor):
            if use_cuda:
                return tensor.cuda()
            return tensor.to(device, non_blocking=non_blocking) if move else tensor

        def wait():
            if cuda_sync:
                torch.cuda.synchronize()
            else:
                synchronize(device)

        if clock_before_warmup:
            started = time.perf_counter()
        for images, labels in batches[:warmup]:
            train_step(copy_to_device(images), copy_to_device(labels))
        if first_sync:
            wait()
        if not clock_before_warmup:
            started = time.perf_counter()
        seen = 0
        for images, labels in batches[warmup:]:
            train_step(copy_to_device(images), copy_to_device(labels))
            seen += {"batches": 1, "full": len(batches[0][0])}.get(count, len(images))
        if count == "all images":
            seen = sum(len(images) for images, _ in batches)
        if last_sync:
            wait()
        elapsed = time.perf_counter() - started
        return elapsed / seen if count == "seconds per image" else seen / elapsed

    return time_training


def test_timing_right_answer_measures_real_training():
    model = torch.nn.Linear(4, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)

    def train_step(images, labels):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(images), labels).backward()
        optimizer.step()

    batches = [(torch.rand(16, 4), torch.randint(0, 2, (16,))) for _ in range(5)]
    assert reference_time_training(train_step, batches, "cpu", warmup=1) > 0


def timing_with_clock(clock, scale=1.0):
    """The reference, timed with another clock (``scale`` turns its unit into seconds)."""
    def time_training(train_step, batches, device, warmup=2):
        for images, labels in batches[:warmup]:
            train_step(images.to(device, non_blocking=True), labels.to(device, non_blocking=True))
        synchronize(device)
        started = clock()
        seen = 0
        for images, labels in batches[warmup:]:
            train_step(images.to(device, non_blocking=True), labels.to(device, non_blocking=True))
            seen += len(images)
        synchronize(device)
        return seen / ((clock() - started) * scale)

    return time_training


def timing_imported_clock(train_step, batches, device, warmup=2):
    from time import perf_counter as tick  # bound before the check starts: the checker must still see it
    return timing_with_clock(tick)(train_step, batches, device, warmup)


TIMING_CATALOGUE = [
    right("the reference", reference_time_training),
    right("per step", timing_per_step),
    right("the variant", timing_variant()),
    right("from time import perf_counter", timing_imported_clock),
    right("time.perf_counter_ns", timing_with_clock(lambda: time.perf_counter_ns(), 1e-9)),
    right("timeit.default_timer", timing_with_clock(lambda: __import__("timeit").default_timer())),
    right("time.monotonic", timing_with_clock(lambda: time.monotonic())),
    right("time.time", timing_with_clock(lambda: time.time())),
    mistake("no final synchronize", timing_variant(last_sync=False), "read before the device had finished"),
    mistake("no synchronize after the warm-up", timing_variant(first_sync=False), "warm-up steps were still queued"),
    mistake("no synchronize at all", timing_variant(first_sync=False, last_sync=False), "warm-up steps were still queued"),
    mistake("clock before the warm-up", timing_variant(clock_before_warmup=True), "clock started before the warm-up"),
    mistake("blocking copies", timing_variant(non_blocking=False), "non_blocking=True"),
    mistake("not moved", timing_variant(move=False), "not copied to the device"),
    mistake(".cuda()", timing_variant(use_cuda=True), ".cuda()"),
    mistake("torch.cuda.synchronize", timing_variant(cuda_sync=True), "torch.cuda.synchronize() raises"),
    mistake("batches per second", timing_variant(count="batches"), "batches per second"),
    mistake("full batches", timing_variant(count="full"), "every batch is full"),
    mistake("warm-up images counted", timing_variant(count="all images"), "warm-up batches' images were counted"),
    mistake("seconds per image", timing_variant(count="seconds per image"), "seconds per image"),
    mistake("no timing at all", lambda train_step, batches, device, warmup=2:
            [train_step(*b) for b in batches][:0] or 1.0, "not copied to the device"),
    mistake("shape error", lambda train_step, batches, device, warmup=2:
            batches[0][0].to(device) @ batches[0][1].to(device), "your code raised RuntimeError"),
    hostile("None", returns(None), "expected a number, got None"),
    hostile("the placeholder", returns(...), "still returns the `...` placeholder"),
    hostile("stub", stub, "not done yet"),
    hostile("raises", raises, "raised ValueError"),
    hostile("a string", returns("1000 images/s"), "expected a number"),
    hostile("NaN", returns(NAN), "the result is nan"),
    hostile("the expected 1,000 typed in", returns(1000.0), "train_step was called 0 times"),
]


@pytest.mark.parametrize("case", TIMING_CATALOGUE, ids=ids(TIMING_CATALOGUE))
def test_timing_catalogue(case):
    assert_case(check_timed_training, case)


def test_timing_checker_leaves_other_threads_the_real_clock():
    seen = []

    def time_training(train_step, batches, device, warmup=2):
        reader = threading.Thread(target=lambda: seen.append(time.monotonic()))  # like a kernel's event loop
        reader.start()
        reader.join()
        return reference_time_training(train_step, batches, device, warmup)

    assert check_timed_training(time_training)
    assert seen[0] > 1.0  # the real clock, not the simulation's


def test_timing_checker_restores_the_clock_and_synchronize():
    before = (time.perf_counter, torch.cuda.synchronize)
    check_timed_training(timing_variant(last_sync=False))
    assert (time.perf_counter, torch.cuda.synchronize) == before
    assert time.perf_counter() > 1.0  # the real clock again


# -- 07.3 decode-once cache ------------------------------------------------------------------------

def cache_right(paths, image_size):
    images = []
    for path in paths:
        with Image.open(path) as opened:
            rgb, _ = composite_on_white(opened)
        array = np.asarray(rgb.resize((image_size, image_size)))  # bicubic: a different filter is fine
        images.append(torch.from_numpy(array.copy()).permute(2, 0, 1))
    return torch.stack(images)


def cache_variant(*, alpha="composite", layout="chw", dtype="uint8", resize=True, stack=True, order=None):
    def build(paths, image_size):
        images = []
        for path in (paths if order is None else [paths[i] for i in order]):
            with Image.open(path) as opened:
                if alpha == "composite":
                    picture, _ = composite_on_white(opened)
                elif alpha == "drop":
                    picture = opened.convert("RGB")
                else:
                    picture = opened.convert("RGBA")
                if resize:
                    picture = picture.resize((image_size, image_size))
                image = torch.from_numpy(np.array(picture))
            if layout == "chw":
                image = image.permute(2, 0, 1)
            if dtype == "float":
                image = image.float() / 255
            images.append(image)
        return torch.stack(images) if stack else images

    return build


def cache_numpy_stack(paths, image_size):
    arrays = []
    for path in paths:
        with Image.open(path) as opened:
            rgb, _ = composite_on_white(opened)
        arrays.append(np.array(rgb.resize((image_size, image_size), Image.Resampling.NEAREST)))
    return torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).contiguous()


CACHE_CATALOGUE = [
    right("the library's", decode_png_cache),
    right("bicubic", cache_right),
    right("the variant", cache_variant()),
    right("NumPy stack, nearest", cache_numpy_stack),
    mistake("channels last", cache_variant(layout="hwc"), ".permute(2, 0, 1)"),
    mistake("floats", cache_variant(dtype="float"), "4 times smaller"),
    mistake("alpha dropped", cache_variant(alpha="drop"), "transparent pixels came out black"),
    mistake("alpha kept", cache_variant(alpha="keep"), "alpha channel is still there"),
    mistake("not resized", cache_variant(resize=False), "stack expects"),
    mistake("not stacked", cache_variant(stack=False), "torch.stack"),
    mistake("shuffled", cache_variant(order=[1, 0, 2]), "another order"),
    mistake("an image missing", lambda paths, size: decode_png_cache(paths[:2], size), "one image per path"),
    mistake("NumPy", lambda paths, size: decode_png_cache(paths, size).numpy(), "torch.from_numpy"),
    mistake("int64", lambda paths, size: decode_png_cache(paths, size).long(), "dtype uint8"),
    mistake("inverted", lambda paths, size: 255 - decode_png_cache(paths, size), "differs from the file's pixels"),
    hostile("None", returns(None), "got None"),
    hostile("stub", stub, "not done yet"),
    hostile("raises", raises, "raised ValueError"),
    hostile("a string", returns("cache"), "expected a tensor"),
    hostile("NaN", lambda paths, size: torch.full((3, 3, size, size), NAN), "expected dtype uint8"),
    hostile("a 16-pixel cache typed in", returns(torch.zeros(3, 3, 16, 16, dtype=torch.uint8)), "image_size="),
]


@pytest.mark.parametrize("case", CACHE_CATALOGUE, ids=ids(CACHE_CATALOGUE))
def test_cache_catalogue(case):
    assert_case(check_decoded_cache, case)


def test_cache_not_resized_same_size_files():
    def not_resized(paths, image_size):
        return torch.stack([torch.zeros(3, 30, 30, dtype=torch.uint8) for _ in paths])

    fails_with(check_decoded_cache(not_resized), "resize every image", CACHE)


# -- 07.4 freeze all but the last layer ------------------------------------------------------------

def freeze_right(model):
    for parameter in model.parameters():
        parameter.requires_grad = False
    for parameter in model[-1].parameters():
        parameter.requires_grad = True
    return model


def freeze_in_place_no_return(model):
    model.requires_grad_(False)
    model[-1].requires_grad_(True)


def freeze_copy(model):
    return freeze_right(copy.deepcopy(model))


def freeze_attribute(model):
    model.requires_grad = False
    return model


def freeze_everything(model):
    model.requires_grad_(False)
    return model


def freeze_first(model):
    model.requires_grad_(False)
    model[0].requires_grad_(True)
    return model


def freeze_weight_only(model):
    model.requires_grad_(False)
    model[-1].weight.requires_grad_(True)
    return model


def freeze_skips_batch_norm(model):
    for module in model:
        if isinstance(module, (torch.nn.Conv2d, torch.nn.Linear)):
            module.requires_grad_(False)
    model[-1].requires_grad_(True)
    return model


def freeze_by_name(model):
    last = str(len(model) - 1)
    for name, parameter in model.named_parameters():
        parameter.requires_grad = name.startswith(last + ".")
    return model


def freeze_children(model):
    for layer in list(model.children())[:-1]:
        for parameter in layer.parameters():
            parameter.requires_grad_(False)
    return model


def freeze_new_head(model):
    model.requires_grad_(False)
    model[-1] = torch.nn.Linear(model[-1].in_features, model[-1].out_features)
    return model


FREEZE_CATALOGUE = [
    right("the library's", freeze_all_but_last),
    right("two loops", freeze_right),
    right("a copy", freeze_copy),
    right("by name", freeze_by_name),
    right("children but the last", freeze_children),
    mistake("returns nothing (the next cell needs the model)", freeze_in_place_no_return, "end with `return model`"),
    mistake("model.requires_grad = False", freeze_attribute, "nothing was frozen"),
    mistake("model.eval()", lambda model: model.eval(), "nothing was frozen"),
    mistake("everything frozen", freeze_everything, "everything was frozen"),
    mistake("the first layer learns", freeze_first, "the wrong layer learns"),
    mistake("weight only", freeze_weight_only, "part of the last layer is frozen"),
    mistake("batch norm forgotten", freeze_skips_batch_norm, "earlier parameters still learn"),
    mistake("returns the last layer", lambda model: freeze_right(model)[-1], "a part of the model"),
    mistake("a new last layer", freeze_new_head, "were replaced"),
    mistake("index error", lambda model: model[99], "your code raised IndexError"),
    hostile("None", returns(None), "returned None"),
    hostile("stub", stub, "not done yet"),
    hostile("raises", raises, "raised ValueError"),
    hostile("a string", returns("frozen"), "end with `return model`"),
    hostile("an empty model", returns(torch.nn.Sequential()), "no parameters"),
    hostile("NaN", returns(NAN), "end with `return model`"),
]


@pytest.mark.parametrize("case", FREEZE_CATALOGUE, ids=ids(FREEZE_CATALOGUE))
def test_freeze_catalogue(case):
    assert_case(check_freeze_all_but_last, case)


CATALOGUES = {check_throughput: THROUGHPUT_CATALOGUE, check_timed_training: TIMING_CATALOGUE,
              check_decoded_cache: CACHE_CATALOGUE, check_freeze_all_but_last: FREEZE_CATALOGUE}
