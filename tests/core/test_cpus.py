"""The per-core defaults count the process's share of the machine (core/cpus.py)."""

from __future__ import annotations

import os
from pathlib import Path

from core.cpus import cores_from_cpu_max, usable_cores
from core.db import pool_size_for_cores


def test_a_cgroup_quota_is_rounded_up_to_whole_cores():
    assert cores_from_cpu_max("200000 100000\n") == 2
    assert cores_from_cpu_max("150000 100000") == 2
    assert cores_from_cpu_max("50000 100000") == 1


def test_no_quota_or_an_unreadable_one_means_no_limit():
    assert cores_from_cpu_max("max 100000") is None
    assert cores_from_cpu_max("") is None
    assert cores_from_cpu_max("lots 100000") is None
    assert cores_from_cpu_max("0 100000") is None


def test_a_container_limit_below_the_machine_wins(tmp_path: Path):
    cpu_max = tmp_path / "cpu.max"
    cpu_max.write_text("100000 100000\n")
    assert usable_cores(cpu_max) == 1


def test_without_a_cgroup_file_the_affinity_mask_counts(tmp_path: Path):
    assert usable_cores(tmp_path / "missing") == len(os.sched_getaffinity(0))


def test_an_explicit_pool_size_is_kept_and_zero_sizes_by_cores():
    assert pool_size_for_cores(7) == 7
    assert pool_size_for_cores(0) == 2 * usable_cores()
