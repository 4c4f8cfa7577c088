"""The tensor file format and its checksum, on files built here byte by byte (no store needed)."""

import hashlib
import json
import struct

import numpy as np
import pytest

import ticketlab
from ticketlab import tensors as tf


def handmade(path, tensors, *, metadata=None, checksum=True, pad=True):
    """A safetensors file written without the package, the checksum computed by the documented rule."""
    header, blobs, offset = {}, [], 0
    for name, (dtype, array) in tensors.items():
        raw = np.ascontiguousarray(array).tobytes()
        header[name] = {"dtype": dtype, "shape": list(np.shape(array)), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    meta = dict(metadata or {})
    if checksum:
        digest = hashlib.sha256()
        for name, entry in header.items():
            shape = "[" + ",".join(map(str, entry["shape"])) + "]"
            offsets = "[" + ",".join(map(str, entry["data_offsets"])) + "]"
            digest.update(f"{name}|{entry['dtype']}|{shape}|{offsets}\n".encode())
        for blob in blobs:
            digest.update(blob)
        meta["ticketlab_sha256"] = digest.hexdigest()
    if meta:
        header["__metadata__"] = meta
    text = json.dumps(header).encode()  # with spaces after separators: the rule does not depend on the header's spacing
    if pad:
        text += b" " * (-len(text) % 8)
    path.write_bytes(struct.pack("<Q", len(text)) + text + b"".join(blobs))
    return path


def test_the_documented_rule_verifies(tmp_path):
    weights = np.arange(12, dtype="<f4").reshape(3, 4)
    path = handmade(tmp_path / "a.bin", {"w": ("F32", weights), "b": ("I64", np.array([1, -2], dtype="<i8"))})
    parsed = ticketlab.read_tensor_file(path)
    assert parsed.verified
    assert list(parsed.tensors) == ["w", "b"]
    np.testing.assert_array_equal(parsed.tensors["w"], weights)
    np.testing.assert_array_equal(parsed.tensors["b"], [1, -2])


@pytest.mark.parametrize("dtype", ["<f4", "<f8", "<f2", "<i8", "<i4", "<i2", "i1", "u1", "?", ">f4", ">i8"])
def test_write_then_read_every_dtype(tmp_path, dtype):
    array = (np.arange(24).reshape(2, 3, 4) % 7).astype(dtype)
    ticketlab.write_tensors(tmp_path / "t.bin", {"x": array, "empty": np.zeros((0, 3), dtype=dtype), "scalar": np.array(3, dtype=dtype)})
    back = ticketlab.read_tensors(tmp_path / "t.bin")
    np.testing.assert_array_equal(back["x"], array)
    assert back["x"].dtype == array.dtype.newbyteorder("<") or back["x"].dtype == array.dtype
    assert back["empty"].shape == (0, 3) and back["scalar"].shape == ()
    raw = (tmp_path / "t.bin").read_bytes()
    (length,) = struct.unpack("<Q", raw[:8])
    assert length % 8 == 0, "the data starts 8-byte aligned, as TicketLab writes it"
    assert json.loads(raw[8:8 + length])["__metadata__"]["ticketlab_sha256"] == tf.checksum(
        json.loads(raw[8:8 + length]), raw[8 + length:])


def test_arrays_are_writable_and_own_no_file(tmp_path):
    ticketlab.write_tensors(tmp_path / "t.bin", {"x": np.ones(3, np.float32)})
    x = ticketlab.read_tensors(tmp_path / "t.bin")["x"]
    x[0] = 5  # writable
    assert ticketlab.read_tensors(tmp_path / "t.bin")["x"][0] == 1


def test_a_flipped_bit_is_a_checksum_error(tmp_path):
    path = handmade(tmp_path / "a.bin", {"w": ("F32", np.linspace(0, 1, 64, dtype="<f4"))})
    raw = bytearray(path.read_bytes())
    raw[-5] ^= 0x01
    path.write_bytes(bytes(raw))
    with pytest.raises(ticketlab.ChecksumError, match="checksum mismatch"):
        ticketlab.read_tensors(path)
    assert ticketlab.read_tensors(path, verify=False)["w"].shape == (64,)


def test_a_changed_dtype_in_the_header_is_a_checksum_error(tmp_path):
    path = handmade(tmp_path / "a.bin", {"w": ("F32", np.ones(4, dtype="<f4"))})
    path.write_bytes(path.read_bytes().replace(b'"F32"', b'"I32"'))  # same size, other meaning
    with pytest.raises(ticketlab.ChecksumError):
        ticketlab.read_tensors(path)


def test_a_file_without_checksum_reads_unverified(tmp_path):
    path = handmade(tmp_path / "plain.bin", {"w": ("F32", np.ones(2, dtype="<f4"))}, checksum=False, pad=False)
    parsed = ticketlab.read_tensor_file(path)
    assert not parsed.verified and parsed.metadata == {}


@pytest.mark.parametrize("damage, message", [
    (lambda raw: raw[:-3], "truncated"),
    (lambda raw: raw[:6], "truncated"),
    (lambda raw: b"\0" * 8 + raw[8:], "header bytes"),
    (lambda raw: raw.replace(b'"data_offsets": [0, 16]', b'"data_offsets": [4, 20]'), "does not start where"),
    (lambda raw: raw.replace(b'"shape": [4]', b'"shape": [5]'), "spans 16 bytes, its shape needs 20"),
    (lambda raw: raw.replace(b'"F32"', b'"Q32"'), "unknown dtype"),
    (lambda raw: raw[:8] + b"[" + raw[9:], "garbled header"),
])
def test_damaged_files_are_errors_naming_the_file(tmp_path, damage, message):
    path = handmade(tmp_path / "a.bin", {"w": ("F32", np.ones(4, dtype="<f4"))}, checksum=False)
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(ticketlab.TensorFileError, match=message) as error:
        ticketlab.read_tensors(path)
    assert str(path) in str(error.value)


def test_bfloat16_reads_as_float32_exactly(tmp_path):
    values = np.array([1.0, -2.5, 3.140625, 0.0], dtype=np.float32)
    bits = (values.view(np.uint32) >> 16).astype("<u2")
    path = handmade(tmp_path / "bf.bin", {"h": ("BF16", bits)})
    back = ticketlab.read_tensors(path)["h"]
    assert back.dtype == np.float32
    np.testing.assert_array_equal(back, values)


def dotnet_string(text):
    data = text.encode()
    assert len(data) < 128
    return bytes([len(data)]) + data


def test_the_legacy_layout_reads(tmp_path):
    weights = np.arange(6, dtype="<f4").reshape(2, 3)
    raw = dotnet_string("TLTENSORS1") + struct.pack("<i", 2)
    raw += dotnet_string("w") + struct.pack("<ii", 6, 2) + struct.pack("<qq", 2, 3) + struct.pack("<q", 24) + weights.tobytes()
    raw += dotnet_string("n") + struct.pack("<ii", 4, 1) + struct.pack("<q", 2) + struct.pack("<q", 16) + np.array([7, 8], "<i8").tobytes()
    (tmp_path / "old.bin").write_bytes(raw)
    back = ticketlab.read_tensors(tmp_path / "old.bin")
    np.testing.assert_array_equal(back["w"], weights)
    np.testing.assert_array_equal(back["n"], [7, 8])


@pytest.mark.parametrize("magic", ["TLCHECKPOINT3", "TLCHECKPOINT2"])
def test_checkpoint_checksum(tmp_path, magic):
    body = b"any body bytes"
    path = tmp_path / "checkpoint.bin"
    path.write_bytes(dotnet_string(magic) + body + hashlib.sha256(body).digest())
    ticketlab.verify_checkpoint(path)
    path.write_bytes(dotnet_string(magic) + b"Any body bytes" + hashlib.sha256(body).digest())
    with pytest.raises(ticketlab.ChecksumError):
        ticketlab.verify_checkpoint(path)


def test_verify_run_against_its_manifest(tmp_path):
    (tmp_path / "models").mkdir()
    files = {"hparams.json": b'{"lr": 0.1}\n', "models/model_final.bin": b"weights"}
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
    manifest = {"format": 1, "run": "train_x/replicate_1", "data_files": [], "inputs": [],
                "files": {name: hashlib.sha256(content).hexdigest() for name, content in files.items()}}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    assert ticketlab.verify_run(tmp_path)["run"] == "train_x/replicate_1"
    (tmp_path / "hparams.json").write_bytes(b'{"lr": 0.5}\n')
    with pytest.raises(ticketlab.ChecksumError, match="hparams.json: differs"):
        ticketlab.verify_run(tmp_path)
    (tmp_path / "hparams.json").write_bytes(files["hparams.json"])
    (tmp_path / "models" / "model_final.bin").unlink()
    with pytest.raises(ticketlab.ChecksumError, match="is missing"):
        ticketlab.verify_run(tmp_path)


def test_torch_tensors(tmp_path):
    torch = pytest.importorskip("torch")
    values = np.array([[1.5, -2.0]], dtype=np.float32)
    bits = (values.view(np.uint32) >> 16).astype("<u2")
    path = handmade(tmp_path / "t.bin", {"f": ("F32", values), "h": ("BF16", bits), "m": ("BOOL", np.array([True, False]))})
    back = ticketlab.read_tensors(path, torch=True)
    assert back["f"].dtype == torch.float32 and back["h"].dtype == torch.bfloat16 and back["m"].dtype == torch.bool
    assert torch.equal(back["h"].float(), torch.from_numpy(values))
    ticketlab.write_tensors(tmp_path / "u.bin", back)
    again = ticketlab.read_tensors(tmp_path / "u.bin", torch=True)
    assert all(torch.equal(again[k], back[k]) for k in back)
