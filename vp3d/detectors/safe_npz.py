"""Read .npz files whose arrays hold pickled Python objects: the one safety policy for them.

The reference release's files (infer_video_d2.py detections, data_2d_custom_*.npz, the Human3.6M
data_3d_h36m.npz and data_2d_h36m_*.npz) and Detectron2's model-zoo .pkl weights are pickles of lists,
dicts, None and numpy arrays. `np.load(allow_pickle=True)` would import and call whatever the file names;
here the unpickler only resolves the handful of constructors those objects need (numpy's array/dtype/scalar
rebuilders and plain containers), so reading them never runs code from the file.

A pickle that names anything else is refused with an UntrustedFileError, unless the caller passes
`trust=True` (a command's trust flag, e.g. `vp3d evaluate --trust-data`): then it is unpickled in full, as
numpy would. Commands without such a flag simply refuse; `UntrustedFileError.naming(flag)` words the one
line for the command in use, so it never names a flag the command does not have.
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

from ..errors import UserError

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


class RefusedGlobal(pickle.UnpicklingError):
    """The pickle names a class or function other than plain containers and numpy's rebuilders."""

    def __init__(self, qualname: str):
        super().__init__(f"refusing to load {qualname} (only plain containers and numpy arrays are read)")
        self.qualname = qualname


class UntrustedFileError(UserError, pickle.UnpicklingError):
    """An .npz whose pickles need more than containers and numpy arrays, read without trust (one line)."""

    def __init__(self, path: str | os.PathLike, refused: str, trust_flag: str | None = "trust=True"):
        self.path, self.refused, self.trust_flag = os.fspath(path), refused, trust_flag
        allow = f"; pass {trust_flag} only if you trust where it came from" if trust_flag else ""
        super().__init__(f"{self.path}: refusing to load {refused} from its pickled arrays (unpickling it would "
                         f"run code named by the file; only plain containers and numpy arrays are read){allow}")

    def naming(self, trust_flag: str | None) -> UntrustedFileError:
        """The same refusal, worded for a command whose trust flag is `trust_flag` (None: it has none)."""
        return UntrustedFileError(self.path, self.refused, trust_flag)


class _RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        canonical = {"__builtin__": "builtins", "copy_reg": "copyreg"}.get(module, module)
        canonical = canonical.replace("numpy._core", "numpy.core", 1)
        if (canonical, name) not in _ALLOWED and not (canonical == "numpy.dtypes" and name.endswith("DType")):
            raise RefusedGlobal(f"{module}.{name}")
        return getattr(importlib.import_module(canonical.replace("numpy.core", _NP_CORE, 1)), name)


def safe_unpickle(fp: BinaryIO) -> Any:
    """pickle.load restricted to containers and numpy arrays (latin1 for Python 2 strings, like the reference).
    Raises RefusedGlobal (a pickle.UnpicklingError) for anything else."""
    return _RestrictedUnpickler(fp, encoding="latin1").load()


def _read_npy(data: bytes, trust: bool) -> np.ndarray:
    fp = io.BytesIO(data)
    version = npy_format.read_magic(fp)
    read_header = npy_format.read_array_header_1_0 if version == (1, 0) else npy_format.read_array_header_2_0
    _, _, dtype = read_header(fp)
    if dtype.hasobject:  # numpy writes object arrays as one pickle right after the header
        return pickle.load(fp, encoding="latin1") if trust else safe_unpickle(fp)
    fp.seek(0)
    return npy_format.read_array(fp, allow_pickle=False)


def load_npz(path: str | os.PathLike, trust: bool = False) -> dict[str, Any]:
    """{key: value} of an np.savez / np.savez_compressed file. 0-d object arrays (how np.savez stores a dict
    or a list of lists of different lengths) come back as their object via .item().

    Pickled arrays are read by the restricted unpickler; one that names anything but containers and numpy
    arrays raises UntrustedFileError unless `trust` (then it is unpickled in full). A file that is not an npz
    raises zipfile.BadZipFile / ValueError, a damaged pickle pickle.UnpicklingError.
    """
    out = {}
    with zipfile.ZipFile(path) as zf:
        for member in zf.namelist():
            if not member.endswith(".npy"):
                continue
            try:
                value = _read_npy(zf.read(member), trust)
            except RefusedGlobal as e:
                raise UntrustedFileError(path, e.qualname) from None
            if isinstance(value, np.ndarray) and value.dtype == object and value.shape == ():
                value = value.item()
            out[member[:-4]] = value
    return out
