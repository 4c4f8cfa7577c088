"""TicketLab's tensor files (weights ``models/*.bin``, masks ``mask.bin``), read without TicketLab.

The layout is safetensors: an 8-byte little-endian header length, a JSON header giving each
tensor's dtype, shape and byte range (padded with spaces to a multiple of 8 bytes), then the raw
little-endian bytes. TicketLab adds ``__metadata__.ticketlab_sha256`` to the header (see
:func:`checksum`), and checks it on every read; so does :func:`read_tensors`.

Files of TicketLab's earlier layout (``TLTENSORS1``: name, dtype, shape, bytes per tensor, no
checksum) are read too. Mirrors ``src/TicketLab/Foundations/TensorFile.cs``.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

CHECKSUM_KEY = "ticketlab_sha256"
MAX_HEADER_BYTES = 100 << 20
MAX_DIMENSIONS = 16
LEGACY_MAGIC = b"TLTENSORS1"

# safetensors dtype names and their little-endian numpy types. BF16 has no numpy type: it is read
# as float32 (exactly: a bfloat16 is the top half of a float32), or as torch.bfloat16 with torch=True.
DTYPES: dict[str, np.dtype] = {
    "F32": np.dtype("<f4"), "F64": np.dtype("<f8"), "F16": np.dtype("<f2"), "BF16": np.dtype("<u2"),
    "I64": np.dtype("<i8"), "I32": np.dtype("<i4"), "I16": np.dtype("<i2"), "I8": np.dtype("i1"),
    "U8": np.dtype("u1"), "BOOL": np.dtype("?"),
}
# What write_tensors calls a numpy array, by kind and item size (any byte order).
_NAMES_OF = {(t.kind, t.itemsize): name for name, t in DTYPES.items() if name != "BF16"}

# TorchSharp's ScalarType numbers (the same as PyTorch's c10::ScalarType), as the legacy layout stores them.
_LEGACY_DTYPES = {0: ("U8", None), 1: ("I8", None), 2: ("I16", None), 3: ("I32", None), 4: ("I64", None),
                  5: ("F16", None), 6: ("F32", None), 7: ("F64", None), 9: (None, np.dtype("<c8")),
                  10: (None, np.dtype("<c16")), 11: ("BOOL", None), 15: ("BF16", None)}

MISMATCH_MESSAGE = "checksum mismatch: the file's bytes changed after it was written"


class TensorFileError(ValueError):
    """A tensor file that cannot be read: truncated, garbled header, unknown dtype."""


class ChecksumError(TensorFileError):
    """The bytes of a tensor file differ from those written (a damaged disk, an edit, a partial copy)."""


def _compact(values: Iterable[int]) -> str:
    return "[" + ",".join(str(int(v)) for v in values) + "]"


def checksum(header: Mapping[str, Any], data: bytes | bytearray | memoryview) -> str:
    """TicketLab's checksum of a tensor file: the hex SHA-256 of, for each tensor in header order
    (``__metadata__`` skipped), the UTF-8 line ``name|dtype|[d0,d1,...]|[begin,end]\\n`` (shape and
    data_offsets as compact JSON arrays, no spaces), followed by each tensor's bytes, again in
    header order. ``data`` is the data section (the bytes after the header)."""
    digest = hashlib.sha256()
    entries = [(name, entry) for name, entry in header.items() if name != "__metadata__"]
    for name, entry in entries:
        line = f"{name}|{entry['dtype']}|{_compact(entry['shape'])}|{_compact(entry['data_offsets'])}\n"
        digest.update(line.encode("utf-8"))
    view = memoryview(data)
    for _, entry in entries:
        begin, end = entry["data_offsets"]
        digest.update(view[begin:end])
    return digest.hexdigest()


def _pairs_no_duplicates(pairs):
    result = {}
    for key, value in pairs:
        if key in result:
            raise TensorFileError(f"garbled header: the name '{key}' appears twice")
        result[key] = value
    return result


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class TensorFile:
    """The parsed content of a tensor file: ``tensors`` (name to numpy array, in file order),
    ``metadata`` (the header's ``__metadata__``, or {}), ``dtypes`` (name to safetensors dtype) and
    ``verified`` (True when a stored checksum was checked and matched, False when the file has none)."""

    def __init__(self, tensors: dict[str, np.ndarray], metadata: dict, dtypes: dict[str, str], verified: bool):
        self.tensors = tensors
        self.metadata = metadata
        self.dtypes = dtypes
        self.verified = verified

    def __repr__(self) -> str:
        return f"TensorFile({len(self.tensors)} tensors, verified={self.verified})"


def read_tensor_file(path: str | os.PathLike, *, verify: bool = True) -> TensorFile:
    """Reads a tensor file with its metadata. With ``verify`` (the default) a stored checksum must
    match (:class:`ChecksumError` otherwise), as TicketLab checks it; a file without one (written by
    another safetensors writer) is read and marked ``verified=False``."""
    path = os.fspath(path)
    try:
        with open(path, "rb") as stream:
            return _read(stream, verify)
    except TensorFileError as e:
        raise type(e)(f"{path}: {e}") from None


def read_tensors(path: str | os.PathLike, *, verify: bool = True, torch: bool = False) -> dict[str, Any]:
    """The tensors of a file as ``{name: numpy.ndarray}`` (or ``torch.Tensor`` with ``torch=True``),
    checksum verified (see :func:`read_tensor_file`). BF16 tensors come as float32 arrays, or as
    ``torch.bfloat16`` tensors."""
    parsed = read_tensor_file(path, verify=verify)
    if torch:
        return {name: to_torch(array, parsed.dtypes[name]) for name, array in parsed.tensors.items()}
    return {name: _numpy_value(array, parsed.dtypes[name]) for name, array in parsed.tensors.items()}


def _numpy_value(array: np.ndarray, dtype: str) -> np.ndarray:
    if dtype == "BF16":
        return (array.astype(np.uint32) << 16).view(np.float32)
    return array


def to_torch(array: np.ndarray, dtype: str):
    """A numpy array as read (BF16 as its raw uint16 bits) to a torch tensor of the file's dtype."""
    try:
        import torch
    except ImportError as e:  # pragma: no cover - depends on the machine
        raise ImportError("torch=True needs PyTorch (Debian: apt install python3-torch); without it, "
                          "tensors are numpy arrays") from e
    if dtype == "BF16":
        return torch.from_numpy(array.view(np.int16)).view(torch.bfloat16)
    return torch.from_numpy(array)


def _read_exactly(stream, count: int, what: str) -> bytes:
    data = stream.read(count)
    if len(data) != count:
        raise TensorFileError(f"truncated file: {what} needs {count} bytes, {len(data)} left")
    return data


def _read(stream, verify: bool) -> TensorFile:
    prefix = _read_exactly(stream, 8, "the header length")
    # A legacy file starts with its magic as a length-prefixed string: 10, "TLTENSORS1".
    if prefix[0] == len(LEGACY_MAGIC) and prefix[1:] == LEGACY_MAGIC[:7]:
        rest = _read_exactly(stream, len(LEGACY_MAGIC) - 7, "the magic")
        if prefix[1:] + rest != LEGACY_MAGIC:
            raise TensorFileError("not a tensor file (bad magic)")
        return _read_legacy(stream)
    (header_length,) = struct.unpack("<Q", prefix)
    if header_length == 0 or header_length > MAX_HEADER_BYTES:
        raise TensorFileError(f"garbled header: {header_length} header bytes")
    header_bytes = _read_exactly(stream, header_length, "the header")
    try:
        header = json.loads(header_bytes.decode("utf-8").rstrip(" "), object_pairs_hook=_pairs_no_duplicates)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise TensorFileError(f"garbled header: {e}") from None
    if not isinstance(header, dict):
        raise TensorFileError("garbled header: not a JSON object")

    entries = []  # (name, dtype, shape, begin, end), in header order
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        entries.append(_parse_entry(name, entry))
    expected_begin = 0
    for name, _, _, begin, end in sorted(entries, key=lambda e: e[3]):
        if begin != expected_begin:
            raise TensorFileError(f"garbled header: tensor '{name}' does not start where the previous one ends")
        expected_begin = end
    data = bytearray(expected_begin)
    if stream.readinto(data) != expected_begin:
        raise TensorFileError(f"truncated file: the tensors need {expected_begin} bytes")

    metadata = header.get("__metadata__") or {}
    if not isinstance(metadata, dict):
        raise TensorFileError("garbled header: __metadata__ is not a JSON object")
    stored = metadata.get(CHECKSUM_KEY)
    verified = False
    if verify and stored is not None:
        if checksum(header, data) != stored:
            raise ChecksumError(MISMATCH_MESSAGE)
        verified = True

    tensors, dtypes = {}, {}
    for name, dtype, shape, begin, end in entries:
        numpy_type = DTYPES[dtype]
        tensors[name] = (np.frombuffer(data, dtype=numpy_type, count=(end - begin) // numpy_type.itemsize, offset=begin)
                         if end > begin else np.empty(0, numpy_type)).reshape(shape)
        dtypes[name] = dtype
    return TensorFile(tensors, dict(metadata), dtypes, verified)


def _parse_entry(name: str, entry: Any):
    if not isinstance(entry, dict):
        raise TensorFileError(f"garbled header: tensor '{name}' is not a JSON object")
    dtype, shape, offsets = entry.get("dtype"), entry.get("shape"), entry.get("data_offsets")
    if dtype not in DTYPES:
        raise TensorFileError(f"garbled header: tensor '{name}' has unknown dtype {dtype}")
    if (not isinstance(shape, list) or not isinstance(offsets, list) or not all(map(_is_int, shape))
            or not all(map(_is_int, offsets)) or len(shape) > MAX_DIMENSIONS or any(s < 0 for s in shape)
            or len(offsets) != 2 or offsets[0] < 0 or offsets[1] < offsets[0]):
        raise TensorFileError(f"garbled header: tensor '{name}' has an impossible shape or byte range")
    expected = int(np.prod(shape, dtype=np.int64)) * DTYPES[dtype].itemsize
    if offsets[1] - offsets[0] != expected:
        raise TensorFileError(f"garbled header: tensor '{name}' spans {offsets[1] - offsets[0]} bytes, its shape needs {expected}")
    return name, dtype, tuple(shape), offsets[0], offsets[1]


def _read_7bit_int(stream) -> int:
    """.NET BinaryReader's length prefix: 7 bits a byte, low bits first, high bit set while more follow."""
    result, shift = 0, 0
    while True:
        (byte,) = _read_exactly(stream, 1, "a string length")
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result
        shift += 7
        if shift > 28:
            raise TensorFileError("garbled header: bad string length")


def _read_legacy(stream) -> TensorFile:
    (count,) = struct.unpack("<i", _read_exactly(stream, 4, "the tensor count"))
    if count < 0 or count > 100_000:
        raise TensorFileError(f"garbled header: {count} tensors")
    tensors, dtypes = {}, {}
    for _ in range(count):
        name = _read_exactly(stream, _read_7bit_int(stream), "a tensor name").decode("utf-8")
        code, dims = struct.unpack("<ii", _read_exactly(stream, 8, "a dtype and rank"))
        if code not in _LEGACY_DTYPES:
            raise TensorFileError(f"garbled header: tensor '{name}' has unknown dtype {code}")
        if dims < 0 or dims > MAX_DIMENSIONS:
            raise TensorFileError(f"garbled header: tensor '{name}' has {dims} dimensions")
        shape = struct.unpack(f"<{dims}q", _read_exactly(stream, 8 * dims, "a shape"))
        if any(s < 0 for s in shape):
            raise TensorFileError(f"garbled header: tensor '{name}' has a negative size")
        (length,) = struct.unpack("<q", _read_exactly(stream, 8, "a byte count"))
        safe_name, numpy_type = _LEGACY_DTYPES[code]
        numpy_type = numpy_type or DTYPES[safe_name]
        expected = int(np.prod(shape, dtype=np.int64)) * numpy_type.itemsize
        if length != expected:
            raise TensorFileError(f"garbled header: tensor '{name}' declares {length} bytes, its shape needs {expected}")
        data = bytearray(_read_exactly(stream, length, f"tensor '{name}'"))
        tensors[name] = (np.frombuffer(data, dtype=numpy_type) if length else np.empty(0, numpy_type)).reshape(shape)
        dtypes[name] = safe_name or numpy_type.str
    return TensorFile(tensors, {}, dtypes, False)


def write_tensors(path: str | os.PathLike, tensors: Mapping[str, Any], metadata: Mapping[str, str] | None = None) -> None:
    """Writes tensors (numpy arrays or torch tensors) in TicketLab's layout, checksum included, so
    TicketLab reads the file back (a mask to train with, weights to start from). Atomic: written to a
    temporary file beside ``path``, then renamed."""
    header: dict[str, Any] = {}
    blobs = []
    offset = 0
    for name, value in tensors.items():
        dtype_name, raw = _raw_bytes(name, value)
        header[name] = {"dtype": dtype_name, "shape": list(raw[1]), "data_offsets": [offset, offset + len(raw[0])]}
        blobs.append(raw[0])
        offset += len(raw[0])
    data = b"".join(blobs)
    meta = {"writer": "ticketlab-python", **(metadata or {})}
    meta[CHECKSUM_KEY] = checksum(header, data)
    header["__metadata__"] = meta
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    padded = (len(text) + 7) // 8 * 8
    path = os.fspath(path)
    temporary = os.path.join(os.path.dirname(os.path.abspath(path)), f".{os.path.basename(path)}.{os.getpid()}.tmp")
    try:
        with open(temporary, "wb") as stream:
            stream.write(struct.pack("<Q", padded))
            stream.write(text + b" " * (padded - len(text)))
            stream.write(data)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def _raw_bytes(name: str, value: Any):
    if type(value).__module__.startswith("torch"):
        import torch
        value = value.detach().cpu().contiguous()
        if value.dtype == torch.bfloat16:
            return "BF16", (value.view(torch.int16).numpy().astype("<i2").tobytes(), tuple(value.shape))
        value = value.numpy()
    array = np.asarray(value, order="C")
    dtype_name = _NAMES_OF.get((array.dtype.kind, array.dtype.itemsize))
    if dtype_name is None:
        raise TypeError(f"tensor '{name}' has dtype {array.dtype}, which has no safetensors name")
    return dtype_name, (array.astype(DTYPES[dtype_name], copy=False).tobytes(), array.shape)


CHECKPOINT_MAGIC = "TLCHECKPOINT3"
# Checkpoints written before they named their run; TicketLab still resumes them.
UNNAMED_CHECKPOINT_MAGIC = "TLCHECKPOINT2"


def verify_checkpoint(path: str | os.PathLike) -> None:
    """Checks a run's ``checkpoint.bin`` as TicketLab does before resuming: after its magic (a .NET
    length-prefixed string, ``TLCHECKPOINT3``, or ``TLCHECKPOINT2`` before checkpoints named their
    run), the body is followed by the SHA-256 of the body's bytes (32 raw bytes at the end of the
    file). Raises :class:`ChecksumError` when they differ."""
    path = os.fspath(path)
    with open(path, "rb") as stream:
        try:
            magic = _read_exactly(stream, _read_7bit_int(stream), "the magic")
        except TensorFileError as e:
            raise TensorFileError(f"{path}: {e}") from None
        if magic not in (CHECKPOINT_MAGIC.encode("ascii"), UNNAMED_CHECKPOINT_MAGIC.encode("ascii")):
            raise TensorFileError(f"{path}: not a TicketLab checkpoint (bad magic, or written by an older TicketLab)")
        body = stream.read()
    if len(body) < 32:
        raise TensorFileError(f"{path}: the checksum at the end is missing (truncated file)")
    if hashlib.sha256(body[:-32]).digest() != body[-32:]:
        raise ChecksumError(f"{path}: {MISMATCH_MESSAGE}")


def verify_run(folder: str | os.PathLike) -> dict:
    """Checks a run folder's files against its ``manifest.json``, as TicketLab does before using
    them: every file the run wrote (``hparams.json``, ``metrics.csv``, ``summary.json``, masks,
    ``models/*.bin``) must still have the SHA-256 recorded when it was written. Returns the
    manifest; raises :class:`ChecksumError` naming the first file that is missing or differs, and
    ``FileNotFoundError`` for a folder without a manifest (a run written before TicketLab 0.6)."""
    folder = os.fspath(folder)
    with open(os.path.join(folder, "manifest.json"), encoding="utf-8") as stream:
        manifest = json.load(stream)
    for name, expected in manifest["files"].items():
        path = os.path.join(folder, *name.split("/"))
        if not os.path.exists(path):
            raise ChecksumError(f"{path}: is missing, but the run wrote it (manifest.json lists it)")
        with open(path, "rb") as stream:
            actual = hashlib.sha256(stream.read()).hexdigest()
        if actual != expected:
            raise ChecksumError(f"{path}: differs from what the run wrote (sha256 {actual[:12]}; manifest.json recorded {expected[:12]})")
    return manifest
