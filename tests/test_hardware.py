"""CPU facts the pipeline acts on: whether training gets bf16, and the note a run without it starts with."""
from pathlib import Path

import pytest

from tests.conftest import ROOT
from xstruct.hardware import cpu_has_bf16, fp32_fallback_note

BF16_FLAGS = ("avx512_bf16", "amx_bf16")


@pytest.fixture
def cpuinfo(tmp_path):
    """This machine's /proc/cpuinfo, as is and with its bf16 flags taken out."""
    real = Path("/proc/cpuinfo")
    if not real.exists():
        pytest.skip("no /proc/cpuinfo")
    text = real.read_text()
    stripped = " ".join(w for w in text.split(" ") if w.strip() not in BF16_FLAGS)
    without, with_ = tmp_path / "without", tmp_path / "with"
    without.write_text(stripped)
    with_.write_text(text.replace("flags\t\t:", "flags\t\t: avx512_bf16", 1))
    return without, with_


def test_bf16_is_read_from_the_cpu_flags(cpuinfo):
    without, with_ = cpuinfo
    assert not cpu_has_bf16(without)
    assert cpu_has_bf16(with_)
    assert not cpu_has_bf16(without.parent / "missing")


def test_a_cpu_run_without_bf16_starts_with_a_note_of_its_cost(cpuinfo):
    without, with_ = cpuinfo
    note = fp32_fallback_note({"bf16": True, "device": "cpu"}, without)
    assert note and "fp32" in note and "docs/performance.md" in note and "\n" not in note
    assert "configs/core.yaml" in note and (ROOT / "configs/core.yaml").is_file()   # the way out it names exists
    assert fp32_fallback_note({"bf16": True, "device": "cpu"}, with_) is None       # it gets bf16
    assert fp32_fallback_note({"bf16": False, "device": "cpu"}, without) is None    # fp32 asked for
    assert fp32_fallback_note({"bf16": True, "device": "cuda"}, without) is None    # not a CPU run
