"""Notebook 07's measurements: rows, the speed table, each trick's function on tiny data, the chart and the script."""

import importlib.util
import math
import pickle
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from PIL import Image

from workshop_utils import performance
from workshop_utils.performance import (GROUPS, ROW_KEYS, SPEED_ROWS, PngImageDataset, SpeedData, SpeedRow,
                                        SuiteConfig, decode_png, decode_png_cache, format_speed_table,
                                        freeze_all_but_last, loader_pass, markdown_speed_table,
                                        measure_images_per_second, run_speed_suite, select_rows, speed_table)
from workshop_utils.plots.performance import plot_speedups, speedup_chart_height

CUDA_ONLY = {"copy-pageable", "copy-pinned", "pinned-non-blocking", "amp-bf16", "amp-fp16", "cudnn-benchmark"}
SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "training_speed.py"
TINY = SuiteConfig(batch_size=4, compute_image_size=16, compute_images=8, pipeline_image_size=16, pipeline_images=6,
                   repeat=1, warmup=1, copy_megabytes=1, compile=False, threads=1)


def write_pngs(folder: Path, count: int = 6) -> list[str]:
    """Small PNG files: RGB ones, and RGBA ones whose right half is transparent over black."""
    generator = np.random.default_rng(0)
    paths = []
    for index in range(count):
        if index % 2:
            pixels = np.zeros((20, 24, 4), np.uint8)
            pixels[:, :12] = [10, 200, 30, 255]
            image = Image.fromarray(pixels, "RGBA")
        else:
            image = Image.fromarray(generator.integers(0, 256, (20, 24, 3), dtype=np.uint8), "RGB")
        path = folder / f"road{index}.png"
        image.save(path)
        paths.append(str(path))
    return paths


@pytest.fixture
def tiny_data(tmp_path) -> SpeedData:
    paths = write_pngs(tmp_path)
    generator = torch.Generator().manual_seed(0)
    return SpeedData(paths, torch.tensor([0, 1, 2, 3, 0, 1]), torch.rand(8, 3, 16, 16, generator=generator),
                     torch.randint(0, 4, (8,), generator=generator), "made up")


def row(key, speed=None, reason=None, **fields):
    spec = next(spec for spec in SPEED_ROWS if spec.key == key)
    return SpeedRow(key, spec.name, spec.group, images_per_second=speed, reason=reason, baseline=spec.baseline,
                    **fields)


# -- rows and the table ----------------------------------------------------------------------------

def test_a_row_needs_a_number_or_a_reason():
    with pytest.raises(ValueError, match="a number or a reason"):
        SpeedRow("x", "x", "g")
    with pytest.raises(ValueError, match="a number or a reason"):
        SpeedRow("x", "x", "g", reason="  ")
    with pytest.raises(ValueError, match="positive"):
        SpeedRow("x", "x", "g", images_per_second=0.0)
    with pytest.raises(ValueError, match="positive"):
        SpeedRow("x", "x", "g", images_per_second=math.inf)
    assert SpeedRow("x", "x", "g", images_per_second=3).measured
    assert not SpeedRow("x", "x", "g", reason="needs CUDA").measured


def test_every_group_has_one_baseline_first():
    assert len(ROW_KEYS) == len(set(ROW_KEYS)) == 20
    for group in GROUPS:
        specs = [spec for spec in SPEED_ROWS if spec.group == group]
        assert specs[0].baseline and not any(spec.baseline for spec in specs[1:])


def test_speed_table_speedups_are_over_the_group_baseline():
    table = speed_table([row("png-workers-0", 100.0, extra={"waiting_for_data": 0.8}),
                         row("png-workers-2", 150.0, note="2 workers on 2 cores"),
                         row("decoded-cache", 500.0, extra={"waiting_for_data": 0.05}),
                         row("float32", 400.0), row("amp-bf16", reason="needs CUDA: tensor cores"),
                         row("compile", 200.0, extra={"compile_seconds": 38.0})])
    assert list(table.index) == ["png-workers-0", "png-workers-2", "decoded-cache", "float32", "amp-bf16", "compile"]
    assert list(table.columns) == ["group", "row", "images/s", "speedup", "data wait", "compile s", "note"]
    assert table.loc["png-workers-0", "speedup"] == 1.0
    assert table.loc["png-workers-2", "speedup"] == pytest.approx(1.5)
    assert table.loc["decoded-cache", "speedup"] == pytest.approx(5.0)
    assert table.loc["compile", "speedup"] == pytest.approx(0.5)
    assert table.loc["compile", "compile s"] == 38.0
    assert math.isnan(table.loc["amp-bf16", "speedup"]) and math.isnan(table.loc["amp-bf16", "images/s"])
    assert table.loc["amp-bf16", "note"] == "needs CUDA: tensor cores"
    assert table.loc["png-workers-2", "note"] == "2 workers on 2 cores"
    assert table.attrs["baselines"] == {"input pipeline": "png-workers-0", "compute": "float32"}


def test_speed_table_without_a_measured_or_run_baseline():
    table = speed_table([row("float32", reason="failed: RuntimeError: boom"), row("frozen", 300.0),
                         row("decoded-cache", 900.0)])
    assert math.isnan(table.loc["frozen", "speedup"])
    assert "baseline (float32, eager) was not measured" in table.loc["frozen", "note"]
    assert math.isnan(table.loc["decoded-cache", "speedup"])  # its group's baseline was not run at all
    assert "was not run" in table.loc["decoded-cache", "note"]


def test_speed_table_other_baselines_and_other_groups():
    table = speed_table([row("float32", 400.0), row("frozen", 800.0)], baseline={"compute": "frozen"})
    assert table.loc["float32", "speedup"] == 0.5 and table.loc["frozen", "speedup"] == 1.0
    custom = speed_table([SpeedRow("a", "A", "mine", images_per_second=10), SpeedRow("b", "B", "mine", images_per_second=30)])
    assert list(custom["speedup"]) == [1.0, 3.0]
    assert list(custom.columns) == ["group", "row", "images/s", "speedup", "note"]
    with pytest.raises(ValueError, match="not one of that group's rows"):
        speed_table([row("float32", 400.0)], baseline={"compute": "cpu"})
    with pytest.raises(ValueError, match="share a key"):
        speed_table([row("float32", 400.0), row("float32", 300.0)])


def test_text_and_markdown_tables():
    table = speed_table([row("copy-pageable", 2000.0, extra={"gigabytes_per_second": 6.2}),
                         row("copy-pinned", reason="needs CUDA: " + "x" * 100)])
    text = format_speed_table(table)
    assert "2,000" in text and "1.00x" in text and "6.2" in text and "..." in text
    markdown = markdown_speed_table(table)
    lines = markdown.splitlines()
    assert lines[0].startswith("| key | group | row | images/s | speedup | GB/s | note |")
    assert len(lines) == 4 and "x" * 100 in lines[-1] and "| - | - |" in lines[-1]


def test_select_rows_by_key_and_group_in_table_order():
    assert select_rows(None) == list(ROW_KEYS)
    assert select_rows(["frozen", "cpu"]) == ["cpu", "frozen"]
    assert select_rows(["input pipeline"]) == ["png-workers-0", "png-workers-2", "png-workers-4", "decoded-cache"]
    with pytest.raises(ValueError, match="unknown row 'gpus'"):
        select_rows(["gpus"])


def test_suite_config_sizes():
    smoke, full = SuiteConfig.for_mode(True), SuiteConfig.for_mode(False)
    assert not smoke.compile and full.compile
    assert smoke.compute_images < full.compute_images and smoke.compute_images % smoke.batch_size == 0
    assert SuiteConfig.for_mode(False, "cuda").batch_size > full.batch_size
    with pytest.raises(ValueError, match="multiple of batch_size"):
        SuiteConfig(batch_size=64, compute_images=100)
    with pytest.raises(ValueError, match="multiples of 8"):
        SuiteConfig(compute_image_size=30)


# -- timing ----------------------------------------------------------------------------------------

def test_measure_images_per_second_is_images_over_the_median_pass():
    calls = []

    def one_pass():
        calls.append(1)
        time.sleep(0.02)

    speed = measure_images_per_second(one_pass, 10, device=torch.device("cpu"), repeat=3, warmup=2)
    assert len(calls) == 5
    assert 10 / 0.2 < speed <= 10 / 0.02


def test_loader_pass_counts_images_and_records_the_wait_for_data():
    class SlowLoader:
        def __iter__(self):
            for size in (3, 3, 2):
                time.sleep(0.01)
                yield torch.zeros(size), torch.zeros(size)

    waits = []
    run = loader_pass(lambda images, labels: len(images), SlowLoader(), waits)
    assert run() == 8 and run() == 8
    assert len(waits) == 2 and all(wait >= 0.025 for wait in waits)


def test_synchronize_waits_for_the_device_and_is_free_on_the_cpu(monkeypatch):
    seen = []
    performance.synchronize("cpu")
    monkeypatch.setattr(performance, "_device_synchronize", seen.append)
    performance.synchronize("cpu")
    assert seen == [torch.device("cpu")]


# -- data ------------------------------------------------------------------------------------------

def test_decode_png_makes_transparent_pixels_white(tmp_path):
    paths = write_pngs(tmp_path, 2)
    image = decode_png(paths[1], 8)
    assert image.dtype == torch.uint8 and image.shape == (3, 8, 8)
    assert (image[:, :, -2:] == 255).all()           # transparent right half: white
    assert image[1, :, :2].float().mean() > 150      # opaque green left half
    cache = decode_png_cache(paths, 8)
    assert cache.shape == (2, 3, 8, 8) and torch.equal(cache[1], image)
    with pytest.raises(ValueError, match="no image files"):
        decode_png_cache([], 8)


def test_png_dataset_decodes_on_access_and_pickles(tmp_path):
    paths = write_pngs(tmp_path, 2)
    dataset = PngImageDataset(paths, [2, 3], 8)
    image, label = dataset[1]
    assert len(dataset) == 2 and label.item() == 3
    assert image.dtype == torch.float32 and image.shape == (3, 8, 8) and 0 <= image.min() and image.max() <= 1
    again = pickle.loads(pickle.dumps(dataset))  # what DataLoader workers started with "spawn" need
    assert torch.equal(again[1][0], image)
    with pytest.raises(ValueError, match="2 files but 1 labels"):
        PngImageDataset(paths, [0], 8)


def test_speed_model_repeats_its_weights_and_leaves_the_global_random_state():
    torch.manual_seed(123)
    expected_draw = torch.rand(1)
    torch.manual_seed(123)
    first, second = performance.speed_model(16), performance.speed_model(16)
    assert torch.rand(1) == expected_draw
    assert all(torch.equal(a, b) for a, b in zip(first.parameters(), second.parameters()))


def test_freeze_all_but_last_leaves_only_the_last_layer_learning():
    model = performance.speed_model(16)
    assert freeze_all_but_last(model) is model
    trainable = [name for name, parameter in model.named_parameters() if parameter.requires_grad]
    assert trainable == [f"{len(model) - 1}.weight", f"{len(model) - 1}.bias"]
    with pytest.raises(ValueError, match="no parameters"):
        freeze_all_but_last(torch.nn.ReLU())


# -- the rows, measured on tiny data ---------------------------------------------------------------

def test_the_suite_gives_every_row_a_number_or_a_reason_on_the_cpu(tiny_data, one_torch_thread):
    seen = []
    rows = run_speed_suite("cpu", smoke=True, config=TINY, data=tiny_data, progress=seen.append,
                           rows=[key for key in ROW_KEYS if key not in {"png-workers-2", "png-workers-4"}])
    assert [r.key for r in rows] == [r.key for r in seen] == [k for k in ROW_KEYS if "workers-" not in k or
                                                               k.endswith("-0")]
    by_key = {r.key: r for r in rows}
    for key in CUDA_ONLY:
        assert by_key[key].reason.startswith("needs CUDA: "), by_key[key]
    assert by_key["gpu"].reason.startswith("needs a GPU")
    assert by_key["compile"].reason.startswith("skipped in smoke mode")
    measured = {"cpu", "png-workers-0", "decoded-cache", "dataloader", "device-resident", "augment-per-image",
                "augment-batched", "float32", "channels-last", "frozen"}
    assert {r.key for r in rows if r.measured} == measured
    assert by_key["frozen"].note == "516 of 32,420 parameters learn"
    assert 0 <= by_key["png-workers-0"].extra["waiting_for_data"] <= 1
    assert by_key["decoded-cache"].settings["image size"] == 16
    assert tiny_data.decoded is not None and tiny_data.decoded.shape == (6, 3, 16, 16)
    table = speed_table(rows)
    assert table["images/s"].notna().sum() == len(measured)
    assert (table["images/s"].notna() | (table["note"].str.len() > 0)).all()
    assert torch.get_num_threads() == 1  # the fixture's setting, restored after the suite's own


def test_dataloader_workers_are_measured_or_turned_down(tiny_data, monkeypatch, one_torch_thread):
    measured = performance.measure_png_workers(tiny_data, TINY, torch.device("cpu"), workers=2)
    assert measured.measured and measured.settings["workers"] == 2
    monkeypatch.setattr("workshop_utils.device.safe_num_workers",
                        lambda requested: (0, "'spawn' worker processes cannot import classes defined in a notebook"))
    refused = performance.measure_png_workers(tiny_data, TINY, torch.device("cpu"), workers=4)
    assert not refused.measured and refused.reason.startswith("not measured: 'spawn'")


def test_compile_errors_become_the_reason(tiny_data, monkeypatch):
    def broken_compile(model, **kwargs):
        raise RuntimeError("Compiler: cc not found\n(a long traceback follows)")

    monkeypatch.setattr(torch, "compile", broken_compile)
    compiled = performance.measure_compile(tiny_data, performance.SuiteConfig(**{**TINY.__dict__, "compile": True}),
                                           torch.device("cpu"))
    assert compiled.reason == "torch.compile failed: RuntimeError: Compiler: cc not found"


def test_an_unexpected_error_becomes_the_row_reason(tiny_data, monkeypatch):
    def broken(data, config, device):
        raise OSError("disk full")

    monkeypatch.setitem(performance.MEASUREMENTS, "channels-last", broken)
    failed = performance.measure_row("channels-last", tiny_data, TINY, torch.device("cpu"))
    assert failed.reason == "failed: OSError: disk full" and failed.group == "compute"


def test_cuda_only_rows_on_a_fake_cuda_device_without_fast_bf16(tiny_data, monkeypatch):
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: (7, 5))
    bf16 = performance.measure_amp(tiny_data, TINY, torch.device("cuda"), dtype=torch.bfloat16)
    assert bf16.reason.startswith("this GPU (compute capability 7.5) has no fast bfloat16")


# -- the chart -------------------------------------------------------------------------------------

def test_plot_speedups_draws_bars_and_greys_out_skipped_rows():
    table = speed_table([row("cpu", 300.0), row("gpu", reason="needs a GPU: none here"),
                         row("float32", 400.0), row("channels-last", 600.0), row("frozen", 200.0),
                         row("decoded-cache", 900.0)])
    fig, ax = plt.subplots(figsize=(9, speedup_chart_height(table)))
    drawn = plot_speedups(ax, table, title="speed")
    assert drawn["speedups"] == {"channels-last": pytest.approx(1.5), "frozen": pytest.approx(0.5)}
    assert drawn["baselines"] == ["cpu", "float32"]
    assert drawn["skipped"] == {"gpu": "needs a GPU: none here"}
    assert drawn["labels"][0] == "GPU vs CPU" and "  channels_last" in drawn["labels"]
    assert len(drawn["labels"]) == len(table) + table["group"].nunique()
    assert drawn["xlim"][0] < 0.5 / 1.5 and drawn["xlim"][1] >= 8
    assert len(ax.patches) == 2
    texts = [text.get_text() for text in ax.texts]
    assert any("needs a GPU" in text for text in texts) and any("no baseline" in text for text in texts)
    assert ax.get_title() == "speed"
    plt.close(fig)


# -- the script ------------------------------------------------------------------------------------

@pytest.fixture
def script(monkeypatch):
    monkeypatch.setenv("WORKSHOP_SMOKE", "1")   # the script sets these; monkeypatch puts them back
    monkeypatch.setenv("WORKSHOP_OFFLINE", "1")
    spec = importlib.util.spec_from_file_location("training_speed", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_script_prints_the_table(script, tiny_data, monkeypatch, capsys, one_torch_thread):
    monkeypatch.setattr(SuiteConfig, "for_mode", classmethod(lambda cls, smoke, device="cpu": TINY))
    monkeypatch.setattr(performance, "load_speed_data", lambda config: tiny_data)
    assert script.main(["--smoke", "--device", "cpu", "--rows", "compute", "decoded-cache", "gpu"]) == 0
    output = capsys.readouterr().out
    table = output.split("\n\n")[-1]
    for key in ["gpu", "decoded-cache", "float32", "amp-bf16", "amp-fp16", "channels-last", "cudnn-benchmark",
                "compile", "frozen"]:
        assert key in table
    assert "needs CUDA" in table and "1.00x" in table and "png-workers-0" not in table
    assert "1 CPU thread" in output and "road signs: made up" in output

    assert script.main(["--smoke", "--device", "cpu", "--rows", "frozen", "--markdown", "--threads", "1"]) == 0
    assert "| frozen | compute |" in capsys.readouterr().out


def test_script_lists_rows_and_refuses_unknown_ones(script, capsys):
    assert script.main(["--list"]) == 0
    listed = capsys.readouterr().out
    assert all(key in listed for key in ROW_KEYS) and "(baseline)" in listed
    assert script.main(["--rows", "warp-drive"]) == 2
    assert "unknown row 'warp-drive'" in capsys.readouterr().err
    assert script.main(["--device", "tpu"]) == 2
    assert "Unknown device 'tpu'" in capsys.readouterr().err


def test_script_runs_as_a_plain_script():
    import subprocess
    import sys

    done = subprocess.run([sys.executable, str(SCRIPT), "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "--smoke" in done.stdout and "--rows" in done.stdout


# -- the decoded cache's verdict, on a slow CPU and on a fast GPU -----------------------------------

def pipeline_table(decode_speed, decode_wait, cached_speed, cached_wait):
    return speed_table([row("png-workers-0", decode_speed, extra={"waiting_for_data": decode_wait}),
                        row("png-workers-2", reason="not measured: only 2 CPU core(s)"),
                        row("decoded-cache", cached_speed, extra={"waiting_for_data": cached_wait})])


def test_the_cache_verdict_holds_on_a_slow_cpu_and_on_a_fast_gpu():
    cpu = performance.judge_decoded_cache(pipeline_table(400.0, 0.85, 1500.0, 0.04))
    assert cpu.holds and cpu.speedup == pytest.approx(3.75) and not cpu.still_data_bound
    assert cpu.measured() == "3.8 times the images per second; waiting for data 85% of each epoch -> 4%"
    # an H200: 73 times faster with the cache, yet the loop still waits for the DataLoader 61% of the time
    gpu = performance.judge_decoded_cache(pipeline_table(700.0, 0.99, 73 * 700.0, 0.61))
    assert 0.99 < 5 * 0.61  # the old rule (decoding waits 5 times as long) is false there
    assert gpu.holds and gpu.speedup == pytest.approx(73) and gpu.still_data_bound


@pytest.mark.parametrize("decode, cached, why", [
    ((1000.0, 0.5), (1100.0, 0.2), "barely faster"),
    ((1000.0, 0.5), (3000.0, 0.6), "waits more"),
    ((1000.0, 0.9), (800.0, 0.1), "slower"),
])
def test_the_cache_verdict_fails_when_the_cache_does_not_help(decode, cached, why):
    verdict = performance.judge_decoded_cache(pipeline_table(*decode, *cached))
    assert not verdict.holds, why


def test_the_cache_verdict_without_numbers_says_why():
    table = speed_table([row("png-workers-0", reason="failed: OSError: broken file"),
                         row("decoded-cache", 900.0, extra={"waiting_for_data": 0.1})])
    verdict = performance.judge_decoded_cache(table)
    assert not verdict.holds and "broken file" in verdict.measured()
    no_waits = speed_table([row("png-workers-0", reason="failed"), row("decoded-cache", reason="failed")])
    assert not performance.judge_decoded_cache(no_waits).holds
    with pytest.raises(ValueError, match="no row 'decoded-cache'"):
        performance.judge_decoded_cache(speed_table([row("png-workers-0", 10.0)]))


# -- devices: Apple GPUs never get CUDA-only options; on CUDA every CUDA-only row is measured -------

def test_on_an_apple_gpu_the_cuda_only_rows_give_their_reason_without_touching_it(tiny_data):
    for key in CUDA_ONLY:  # pin_memory, GradScaler, cudnn flags: refused before anything is allocated
        refused = performance.measure_row(key, tiny_data, TINY, torch.device("mps"))
        assert refused.reason.startswith("needs CUDA: ") and refused.reason.endswith("(this run is on mps)"), refused


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU: the CUDA-only rows measured for real")
def test_on_cuda_every_cuda_only_row_gets_a_number(tiny_data):
    keys = sorted(CUDA_ONLY | {"gpu"})
    by_key = {r.key: r for r in run_speed_suite("cuda", smoke=True, config=TINY, data=tiny_data, rows=keys)}
    fast_bf16 = torch.cuda.get_device_capability()[0] >= 8
    for key in keys:
        if key == "amp-bf16" and not fast_bf16:  # a T4: float16 only
            assert "no fast bfloat16" in by_key[key].reason
        else:
            assert by_key[key].measured, by_key[key]


def test_the_augmentation_rows_train_with_the_road_sign_presets_both_ways(tiny_data, one_torch_thread):
    rows = {r.key: r for r in run_speed_suite("cpu", config=TINY, data=tiny_data, rows=["augmentation"])}
    assert list(rows) == ["augment-per-image", "augment-batched"]
    assert all(row.measured and 0 <= row.extra["waiting_for_data"] <= 1 for row in rows.values())
    assert rows["augment-batched"].settings["presets"] == "rotation, random resized crop, colour jitter"
