"""Every file bbpfit replaces is published with the same durability: file and folder fsynced.

The four writers (store marker and fragments, netCDF export, the null cache's ``.npy`` files, the
zoo table) go through :func:`bbpfit._files.atomic_path`. The test records every ``os.fsync`` (by
the path behind the descriptor) and checks that the new file's content and the rename in its
folder both reached the disk, and that a failed write leaves the old file and no temporary.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

from bbpfit._files import atomic_path, atomic_write_bytes
from bbpfit.inference.null_cache import NullCache
from bbpfit.store import LayerInfo, SpectraWriter, to_netcdf
from bbpfit.zoo.output import ZOO_COLUMNS, ZooOutput

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc/self/fd")


@pytest.fixture
def synced(monkeypatch):
    """The real paths of everything fsynced while the test runs."""
    seen: list[str] = []
    real = os.fsync

    def spy(fd):
        seen.append(os.path.realpath(os.readlink(f"/proc/self/fd/{fd}")))
        return real(fd)

    monkeypatch.setattr(os, "fsync", spy)
    return seen


def _durable(seen, target):
    """The content of ``target`` (under some temporary name in its folder) and the folder synced."""
    folder = os.path.realpath(os.path.dirname(target))
    files = [p for p in seen if os.path.dirname(p) == folder and p != folder]
    return bool(files) and folder in seen


def test_store_marker_and_fragment(tmp_path, synced):
    w = SpectraWriter(tmp_path / "s.bbp", [LayerInfo("a.weight", (5, 3), 5, 3)], flush_every=1)
    w.append(0, [np.array([3.0, 2.0, 1.0])])
    assert _durable(synced, tmp_path / "s.bbp" / "bbpfit-store.json")
    assert _durable(synced, tmp_path / "s.bbp" / "fragments" / "x")
    w.close()


def test_netcdf_export(tmp_path, synced):
    w = SpectraWriter(tmp_path / "s.bbp", [LayerInfo("a.weight", (5, 3), 5, 3)])
    w.append(0, [np.array([3.0, 2.0, 1.0])])
    w.close()
    synced.clear()
    (tmp_path / "out").mkdir()
    to_netcdf(tmp_path / "s.bbp", tmp_path / "out" / "s.nc")
    assert _durable(synced, tmp_path / "out" / "s.nc")


def test_null_cache_file(tmp_path, synced):
    cache = NullCache(directory=tmp_path / "nulls")
    cache.get(("kn", 40, 20, 9), lambda: np.arange(9.0))
    files = os.listdir(tmp_path / "nulls")
    assert len(files) == 1 and files[0].endswith(".npy")  # no temporary left
    assert _durable(synced, tmp_path / "nulls" / files[0])


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_zoo_table_rewrite(tmp_path, synced, suffix):
    out = tmp_path / "zoo" / f"t{suffix}"
    try:
        output = ZooOutput(out)
    except ValueError:  # no parquet engine installed
        pytest.skip("no parquet engine")
    output.rewrite(pd.DataFrame(columns=ZOO_COLUMNS))
    assert _durable(synced, out)
    assert os.listdir(out.parent) == [out.name]


def test_zoo_csv_append_creates_a_durable_file(tmp_path, synced):
    out = tmp_path / "zoo" / "t.csv"
    ZooOutput(out).append(pd.DataFrame(columns=ZOO_COLUMNS))
    assert os.path.realpath(out) in synced and os.path.realpath(out.parent) in synced


def test_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "f.bin"
    atomic_write_bytes(target, b"old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        with open(tmp, "wb") as f:
            f.write(b"half")
        raise RuntimeError("killed")
    assert target.read_bytes() == b"old" and os.listdir(tmp_path) == ["f.bin"]
