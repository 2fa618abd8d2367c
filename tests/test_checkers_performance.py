"""Notebook 07's checkers (throughput, honest timing, decode-once cache, freezing) against right and wrong answers."""

import copy
import statistics
import threading
import time

import numpy as np
import pytest
import torch
from PIL import Image

from workshop_utils.checkers.performance import (check_decoded_cache, check_freeze_all_but_last, check_throughput,
                                                 check_timed_training, reference_images_per_second,
                                                 reference_speedup, reference_time_training)
from workshop_utils.data.loaders import composite_on_white
from workshop_utils.performance import decode_png_cache, freeze_all_but_last, synchronize

THROUGHPUT = "Exercise 07.1 (throughput and speed-up)"
TIMING = "Exercise 07.2 (timing a GPU honestly)"
CACHE = "Exercise 07.3 (decode-once cache)"
FREEZE = "Exercise 07.4 (freeze all but the last layer)"


def stub(*args, **kwargs):
    raise NotImplementedError("Exercise: replace this line with your solution")


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


@pytest.mark.parametrize("answer", [reference_images_per_second, throughput_right, throughput_numpy,
                                    lambda s, b, w: torch.tensor(b[w:]).sum() / torch.tensor(s[w:]).sum()])
def test_throughput_right_answers_pass(answer):
    feedback = check_throughput(answer, reference_speedup)
    assert feedback, feedback.text()
    assert check_throughput(answer, lambda new, base: new / base)


@pytest.mark.parametrize("attempt, words", [
    (lambda s, b, w: sum(s[w:]) / sum(b[w:]), "seconds per image"),
    (lambda s, b, w: sum(b) / sum(s), "warm-up steps were counted"),
    (lambda s, b, w: len(s[w:]) / sum(s[w:]), "batches per second"),
    (lambda s, b, w: statistics.mean(n / t for n, t in zip(b[w:], s[w:])), "averaged each step's rate"),
    (lambda s, b, w: b[0] * len(s[w:]) / sum(s[w:]), "every batch is full"),
    (lambda s, b, w: sum(b[w + 1:]) / sum(s[w + 1:]), "one step too many"),
    (throughput_pops, "changed the lists"),
    (lambda s, b, w: (sum(b[w:]), sum(s[w:])), "expected a number, got a tuple"),
    (lambda s, b, w: None, "expected a number, got None"),
    (lambda s, b, w: sum(b[w:]) / 0, "your code raised ZeroDivisionError"),
    (lambda s, b, w: 123.0, "wrong number of images per second"),
    (stub, "not done yet"),
])
def test_throughput_wrong_answers(attempt, words):
    fails_with(check_throughput(attempt, reference_speedup), words, THROUGHPUT)


@pytest.mark.parametrize("attempt, words", [
    (lambda new, base: base / new, "upside down"),
    (lambda new, base: new - base, "difference"),
    (lambda new, base: (new - base) / base, "gain"),
    (lambda new, base: 100 * new / base, "percentage"),
    (lambda new, base: new / base > 1, "expected a number, got a Python bool"),
    (lambda new, base: new / (base - base), "your code raised ZeroDivisionError"),
    (stub, "not done yet"),
])
def test_speedup_wrong_answers(attempt, words):
    fails_with(check_throughput(reference_images_per_second, attempt), words, THROUGHPUT)


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


@pytest.mark.parametrize("answer", [reference_time_training, timing_per_step, timing_variant()])
def test_timing_right_answers_pass(answer):
    feedback = check_timed_training(answer)
    assert feedback, feedback.text()


def test_timing_right_answer_measures_real_training():
    model = torch.nn.Linear(4, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)

    def train_step(images, labels):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(images), labels).backward()
        optimizer.step()

    batches = [(torch.rand(16, 4), torch.randint(0, 2, (16,))) for _ in range(5)]
    assert reference_time_training(train_step, batches, "cpu", warmup=1) > 0


@pytest.mark.parametrize("attempt, words", [
    (timing_variant(last_sync=False), "read before the device had finished"),
    (timing_variant(first_sync=False), "warm-up steps were still queued"),
    (timing_variant(first_sync=False, last_sync=False), "warm-up steps were still queued"),
    (timing_variant(clock_before_warmup=True), "clock started before the warm-up steps"),
    (timing_variant(non_blocking=False), "non_blocking=True"),
    (timing_variant(move=False), "not copied to the device"),
    (timing_variant(use_cuda=True), ".cuda()"),
    (timing_variant(cuda_sync=True), "torch.cuda.synchronize() raises"),
    (timing_variant(count="batches"), "batches per second"),
    (timing_variant(count="full"), "every batch is full"),
    (timing_variant(count="all images"), "warm-up batches' images were counted"),
    (timing_variant(count="seconds per image"), "seconds per image"),
    (lambda train_step, batches, device, warmup=2: [train_step(*b) for b in batches][:0] or 1.0,
     "not copied to the device"),
    (lambda train_step, batches, device, warmup=2: None, "expected a number, got None"),
    (lambda train_step, batches, device, warmup=2: ..., "still returns the `...` placeholder"),
    (lambda train_step, batches, device, warmup=2: batches[0][0].to(device) @ batches[0][1].to(device),
     "your code raised RuntimeError"),
    (stub, "not done yet"),
])
def test_timing_wrong_answers(attempt, words):
    fails_with(check_timed_training(attempt), words, TIMING)


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


@pytest.mark.parametrize("answer", [decode_png_cache, cache_right, cache_variant()])
def test_cache_right_answers_pass(answer):
    feedback = check_decoded_cache(answer)
    assert feedback, feedback.text()


@pytest.mark.parametrize("attempt, words", [
    (cache_variant(layout="hwc"), ".permute(2, 0, 1)"),
    (cache_variant(dtype="float"), "4 times smaller"),
    (cache_variant(alpha="drop"), "transparent pixels came out black"),
    (cache_variant(alpha="keep"), "alpha channel is still there"),
    (cache_variant(resize=False), "stack expects"),
    (cache_variant(stack=False), "torch.stack"),
    (cache_variant(order=[1, 0, 2]), "another order"),
    (lambda paths, size: decode_png_cache(paths[:2], size), "one image per path"),
    (lambda paths, size: decode_png_cache(paths, size).numpy(), "torch.from_numpy"),
    (lambda paths, size: decode_png_cache(paths, size).long(), "dtype uint8"),
    (lambda paths, size: 255 - decode_png_cache(paths, size), "differs from the file's pixels"),
    (lambda paths, size: None, "got None"),
    (stub, "not done yet"),
])
def test_cache_wrong_answers(attempt, words):
    fails_with(check_decoded_cache(attempt), words, CACHE)


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


@pytest.mark.parametrize("answer", [freeze_all_but_last, freeze_right, freeze_in_place_no_return, freeze_copy])
def test_freeze_right_answers_pass(answer):
    feedback = check_freeze_all_but_last(answer)
    assert feedback, feedback.text()


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


@pytest.mark.parametrize("attempt, words", [
    (freeze_attribute, "nothing was frozen"),
    (lambda model: model.eval(), "nothing was frozen"),
    (freeze_everything, "everything was frozen"),
    (freeze_first, "the wrong layer learns"),
    (freeze_weight_only, "part of the last layer is frozen"),
    (freeze_skips_batch_norm, "earlier parameters still learn"),
    (lambda model: model[99], "your code raised IndexError"),
    (stub, "not done yet"),
])
def test_freeze_wrong_answers(attempt, words):
    fails_with(check_freeze_all_but_last(attempt), words, FREEZE)
