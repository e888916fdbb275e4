"""The device a job runs on (`auto`: a GPU if there is one), CPU facts, and process settings for CPU training."""
from __future__ import annotations

import ctypes
import ctypes.util
from pathlib import Path

M_TRIM_THRESHOLD, M_MMAP_MAX = -1, -4     # glibc mallopt parameters (malloc.h)


def resolve_device(name: str):
    """`auto` | `cpu` | `cuda` (or `cuda:N`) as a torch.device."""
    import torch

    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def cpu_has_bf16(cpuinfo: str | Path = "/proc/cpuinfo") -> bool:
    try:
        flags = Path(cpuinfo).read_text().split()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def fp32_fallback_note(pretrain: dict, cpuinfo: str | Path = "/proc/cpuinfo") -> str | None:
    """One line for the start of a local run whose training asks for bf16 on a CPU without it: everything then
    trains in fp32, which at the embedded model size is ~3x slower (measured, docs/performance.md), so a user
    learns the cost before hours of it, not from the job logs."""
    # cheapest first: resolving the device imports torch, needed only on a CPU without bf16
    if not pretrain.get("bf16") or cpu_has_bf16(cpuinfo):
        return None
    if resolve_device(pretrain.get("device", "auto")).type != "cpu":
        return None
    return ("note: this CPU has no bf16 instructions (avx512_bf16 or amx_bf16 in /proc/cpuinfo), so training runs "
            "in fp32, about 3x slower: the embedded default takes 2.6 to ~4.5 hours on 2 such cores instead of "
            "70-90 minutes; --configfile configs/core.yaml runs its en-fr core in ~70 minutes "
            "(docs/performance.md, 'The default per machine type')")


def keep_freed_memory() -> bool:
    """Make glibc keep freed memory for reuse instead of unmapping it.

    Every training step allocates and frees the same large tensors (logits, their gradient, the embedding
    gradient). glibc serves blocks over 32 MB with mmap and returns them to the kernel on free, so each step
    pays fresh page faults: 75k per step at 4 x 256, vocabulary 32k, 15% of the time (measured). Served from
    the heap and never trimmed, the step reuses warm pages. Returns False where the C library is not glibc.
    """
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        return bool(libc.mallopt(M_MMAP_MAX, 0) and libc.mallopt(M_TRIM_THRESHOLD, 2**30))
    except (OSError, AttributeError, TypeError):
        return False
