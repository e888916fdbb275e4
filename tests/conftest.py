"""Shared fixtures: the repository root, the real-data samples beside the checkout, the configs."""
from pathlib import Path

import pytest
import torch
import yaml

from xstruct.configs import merge_config

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


def load_config(*overlays: str) -> dict:
    """config.yaml with configs/<overlay>.yaml merged over it, the way `--configfile` merges."""
    config = yaml.safe_load((ROOT / "config.yaml").read_text())
    for name in overlays:
        config = merge_config(config, yaml.safe_load((ROOT / "configs" / f"{name}.yaml").read_text()))
    return config


@pytest.fixture(scope="session")
def shared_data() -> Path:
    data = SHARED / "data"
    if not data.is_dir():
        pytest.skip(f"real-data samples not found at {data} (the shared/ folder beside the checkout)")
    return data


@pytest.fixture()
def one_thread():
    """One torch thread: tiny models on a shared 2-core machine slow down badly when threads oversubscribe."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
