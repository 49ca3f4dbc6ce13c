"""Read .npz files whose arrays hold pickled Python objects, without letting the file run code.

The reference release's 2D files (infer_video_d2.py detections, data_2d_custom_*.npz) and Detectron2's
model-zoo .pkl weights are pickles of lists, dicts, None and numpy arrays. `np.load(allow_pickle=True)`
would import and call whatever the file names; here the unpickler only resolves the handful of
constructors those objects need (numpy's array/dtype/scalar rebuilders and plain containers) and refuses
anything else, so a hostile file fails to load instead of running.
"""

from __future__ import annotations

import importlib
import io
import os
import pickle
import zipfile
from typing import Any, BinaryIO

import numpy as np
from numpy.lib import format as npy_format

# numpy 2 renamed numpy.core to numpy._core; pickles written by numpy 1 (and Python 2) name the old module.
_NP_CORE = "numpy._core" if hasattr(np, "_core") else "numpy.core"

_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"), ("numpy.core.multiarray", "scalar"),
    ("numpy.core.numeric", "_frombuffer"), ("numpy", "ndarray"), ("numpy", "dtype"),
    ("_codecs", "encode"),  # how Python 3 pickles bytes at protocol 2 (array buffers)
    ("builtins", "list"), ("builtins", "dict"), ("builtins", "tuple"), ("builtins", "set"),
    ("builtins", "frozenset"), ("builtins", "slice"), ("builtins", "complex"), ("builtins", "bytearray"),
    ("collections", "OrderedDict"),
}


class _RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        canonical = {"__builtin__": "builtins", "copy_reg": "copyreg"}.get(module, module)
        canonical = canonical.replace("numpy._core", "numpy.core", 1)
        if (canonical, name) not in _ALLOWED and not (canonical == "numpy.dtypes" and name.endswith("DType")):
            raise pickle.UnpicklingError(f"refusing to load {module}.{name} (only plain containers and numpy "
                                         f"arrays are read)")
        return getattr(importlib.import_module(canonical.replace("numpy.core", _NP_CORE, 1)), name)


def safe_unpickle(fp: BinaryIO) -> Any:
    """pickle.load restricted to containers and numpy arrays (latin1 for Python 2 strings, like the reference)."""
    return _RestrictedUnpickler(fp, encoding="latin1").load()


def _read_npy(data: bytes) -> np.ndarray:
    fp = io.BytesIO(data)
    version = npy_format.read_magic(fp)
    read_header = npy_format.read_array_header_1_0 if version == (1, 0) else npy_format.read_array_header_2_0
    _, _, dtype = read_header(fp)
    if dtype.hasobject:
        return safe_unpickle(fp)  # numpy writes object arrays as one pickle right after the header
    fp.seek(0)
    return npy_format.read_array(fp, allow_pickle=False)


def load_npz(path: str | os.PathLike) -> dict[str, Any]:
    """{key: value} of an np.savez / np.savez_compressed file. 0-d object arrays (how np.savez stores a dict
    or a list of lists of different lengths) come back as their object via .item().

    Raises pickle.UnpicklingError for a pickle that names anything but containers and numpy arrays,
    zipfile.BadZipFile / ValueError for a file that is not an npz.
    """
    out = {}
    with zipfile.ZipFile(path) as zf:
        for member in zf.namelist():
            if not member.endswith(".npy"):
                continue
            value = _read_npy(zf.read(member))
            if isinstance(value, np.ndarray) and value.dtype == object and value.shape == ():
                value = value.item()
            out[member[:-4]] = value
    return out
