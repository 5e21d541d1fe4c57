#!/usr/bin/env python3
"""Write the malformed-input corpus (tests/data/bad/) and its README.

Run: /tmp/peers/bin/python tests/data/bad/make_bad.py   (needs torch and numpy; tests never run it)
Each case is (name, reason, maker); a name ending in '/' is a folder. A reason may end with
'(scan exits 0: why)' when the file is harmless for `scan` (scan reads only weights, never index files).
"""
import gzip, io, json, os, pickle, shutil, struct, sys, zipfile, zlib

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))


def st(header, data=b"", raw_len=None):
    """A safetensors file from a header (dict or raw bytes) and data bytes."""
    h = header if isinstance(header, bytes) else json.dumps(header).encode()
    n = len(h) if raw_len is None else raw_len
    return struct.pack("<Q", n) + h + data


def f32(name="w", n=2, start=0):
    return {name: {"dtype": "F32", "shape": [n], "data_offsets": [start, start + 4 * n]}}


def torch_bytes(obj, **kw):
    b = io.BytesIO()
    torch.save(obj, b, **kw)
    return b.getvalue()


def good_zip():
    return torch_bytes({"w": torch.arange(4, dtype=torch.float32)})


def good_legacy():
    return torch_bytes({"w": torch.arange(4, dtype=torch.float32)}, _use_new_zipfile_serialization=False)


def zip_of(entries, method=zipfile.ZIP_STORED):
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", method) as z:
        for name, data in entries:
            z.writestr(zipfile.ZipInfo(name), data, compress_type=method)
    return b.getvalue()


def zip_entries(data):
    z = zipfile.ZipFile(io.BytesIO(data))
    return [(i.filename, z.read(i.filename)) for i in z.infolist()]


def replace_entry(data, suffix, new):
    return zip_of([(n, new if n.endswith(suffix) else d) for n, d in zip_entries(data)])


def data_pkl(data):
    return next(d for n, d in zip_entries(data) if n.endswith("data.pkl"))




def long1(v):
    b = v.to_bytes(9, "little", signed=True).rstrip(b"\x00") or b"\x00"
    if b[-1] & 0x80 and v >= 0:
        b += b"\x00"
    return b"\x8a" + bytes([len(b)]) + b


def uni(s):
    s = s.encode()
    return b"X" + struct.pack("<I", len(s)) + s


def tensor_pkl(offset=0, shape=(4,), stride=(1,), numel=4, key="0", storage="FloatStorage"):
    p = b"\x80\x02}" + uni("w")
    p += b"ctorch._utils\n_rebuild_tensor_v2\n("
    p += b"(" + uni("storage") + b"ctorch\n" + storage.encode() + b"\n" + uni(key) + uni("cpu") + long1(numel) + b"tQ"
    p += long1(offset) + b"(" + b"".join(long1(d) for d in shape) + b"t(" + b"".join(long1(s) for s in stride) + b"t"
    p += b"\x89}tRs."
    return p


def torch_zip(pkl, records=(("0", bytes(16)),), top="archive", byteorder=b"little"):
    e = [(f"{top}/data.pkl", pkl)]
    if byteorder is not None:
        e.append((f"{top}/byteorder", byteorder))
    e += [(f"{top}/data/{k}", v) for k, v in records]
    e.append((f"{top}/version", b"3\n"))
    return zip_of(e)


class Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def legacy_parts(sysinfo=None, version=1001, magic=0x1950A86A20F9469CFC6C):
    out = pickle.dumps(magic, protocol=2) + pickle.dumps(version, protocol=2)
    si = sysinfo if sysinfo is not None else {"protocol_version": 1001, "little_endian": True, "type_sizes": {"short": 2, "int": 4, "long": 4}}
    return out + pickle.dumps(si, protocol=2)


def npy(arr):
    b = io.BytesIO()
    np.save(b, arr, allow_pickle=True)
    return b.getvalue()


def npz(**arrs):
    b = io.BytesIO()
    np.savez(b, **arrs)
    return b.getvalue()


def folder(files):
    return files  # dict name -> bytes


def shard(name="a.weight"):
    return st(f32(name), bytes(8))


def tar_like():
    b = bytearray(1024)
    b[0:5] = b"xyzzy"
    b[257:263] = b"ustar\x00"
    return bytes(b)




CASES = [
    # --- safetensors ---
    ("empty.safetensors", "empty file", lambda: b""),
    ("short.safetensors", "4 bytes: too short for the 8-byte header length", lambda: b"\x10\x00\x00\x00"),
    ("len-max.safetensors", "header length 2^64-1", lambda: st(b"{}", raw_len=2**64 - 1)),
    ("len-over-limit.safetensors", "header length just over the 100 MB limit", lambda: st(b"{}", raw_len=100_000_001)),
    ("len-past-eof.safetensors", "header length larger than the file", lambda: st(b'{"a":1}', raw_len=4096)),
    ("len-zero.safetensors", "header length 0", lambda: st(b"", raw_len=0) + b"{}"),
    ("header-not-utf8.safetensors", "header bytes are not UTF-8", lambda: st(b'{"\xff\xfe":1}')),
    ("header-not-json.safetensors", "header is not JSON", lambda: st(b"{hello world}  ")),
    ("header-array.safetensors", "header is a JSON array, not an object", lambda: st(b"[1, 2, 3]")),
    ("header-trailing.safetensors", "header JSON followed by garbage inside the header", lambda: st(b'{} xx')),
    ("dtype-unknown.safetensors", "unknown dtype Q7", lambda: st({"w": {"dtype": "Q7", "shape": [2], "data_offsets": [0, 8]}}, bytes(8))),
    ("offsets-reversed.safetensors", "data_offsets end before they start", lambda: st({"w": {"dtype": "F32", "shape": [2], "data_offsets": [8, 0]}}, bytes(8))),
    ("size-mismatch.safetensors", "shape needs 16 bytes, data_offsets hold 8", lambda: st({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 8]}}, bytes(8))),
    ("shape-overflow.safetensors", "shape product overflows 64 bits", lambda: st({"w": {"dtype": "F32", "shape": [2**40, 2**40], "data_offsets": [0, 8]}}, bytes(8))),
    ("shape-negative.safetensors", "negative dimension", lambda: st({"w": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}}, bytes(8))),
    ("shape-too-many-dims.safetensors", "65 dimensions", lambda: st({"w": {"dtype": "F32", "shape": [1] * 65, "data_offsets": [0, 4]}}, bytes(4))),
    ("gap.safetensors", "8 bytes between two tensors belong to no tensor", lambda: st({**f32("a"), **f32("b", start=16)}, bytes(24))),
    ("overlap.safetensors", "second tensor overlaps the first", lambda: st({**f32("a"), **f32("b", start=4)}, bytes(12))),
    ("truncated-data.safetensors", "header promises 16 bytes of data, the file has 8", lambda: st(f32("w", 4), bytes(8))),
    ("trailing-data.safetensors", "8 bytes after the last tensor", lambda: st(f32(), bytes(16))),
    ("duplicate-name.safetensors", "the same tensor name twice", lambda: st(b'{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"w":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}', bytes(16))),
    ("metadata-not-string.safetensors", "__metadata__ value is a number", lambda: st({"__metadata__": {"a": 1}, **f32()}, bytes(8))),
    ("metadata-twice.safetensors", "__metadata__ appears twice", lambda: st(b'{"__metadata__":{},"__metadata__":{},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}', bytes(8))),
    ("missing-offsets.safetensors", "tensor without data_offsets", lambda: st({"w": {"dtype": "F32", "shape": [2]}}, bytes(8))),
    ("lfs-pointer.safetensors", "a Git LFS pointer instead of the weights", lambda: b"version https://git-lfs.github.com/spec/v1\noid sha256:" + b"0" * 64 + b"\nsize 12345\n"),
    ("html-page.safetensors", "an HTML error page saved as weights", lambda: b"<!DOCTYPE html><html><body>404 Not Found</body></html>\n"),
    # --- torch zip ---
    ("zip-no-end-record.pt", "torch zip cut before its end-of-central-directory record", lambda: good_zip()[:-22]),
    ("zip-half.pt", "torch zip cut in half", lambda: good_zip()[: len(good_zip()) // 2]),
    ("zip-no-data-pkl.pt", "zip without data.pkl (scan exits 0: an archive with no pickle)", lambda: zip_of([("archive/readme.txt", b"hello")])),
    ("zip-empty.pt", "empty zip archive (scan exits 0: an empty archive holds no pickle)", lambda: zip_of([])),
    ("zip-local-offset-past-eof.pt", "data.pkl's local header offset points past the end of the file", lambda: local_offset_past_eof()),
    ("zip-duplicate-data-pkl.pt", "two archive/data.pkl entries", lambda: torch_zip(tensor_pkl()) [:0] + zip_of([("archive/data.pkl", tensor_pkl()), ("archive/data.pkl", tensor_pkl()), ("archive/data/0", bytes(16))])),
    ("zip-missing-record.pt", "data.pkl names storage 0 but archive/data/0 is missing (scan exits 0: its pickle is safe; a record is missing)", lambda: torch_zip(tensor_pkl(), records=())),
    ("zip-short-record.pt", "storage record holds 8 bytes, the pickle says 16 (scan exits 0: its pickle is safe; a record is short)", lambda: torch_zip(tensor_pkl(), records=(("0", bytes(8)),))),
    ("zip-compressed-record.pt", "storage record is deflated (cannot be mapped) (scan exits 0: its pickle is safe; the storage layout is the problem)", lambda: zip_of([("archive/data.pkl", tensor_pkl()), ("archive/data/0", bytes(16))], zipfile.ZIP_DEFLATED)),
    ("zip-byteorder-big.pt", "saved on a big-endian machine (scan exits 0: its pickle is safe; the byte order is the problem)", lambda: torch_zip(tensor_pkl(), byteorder=b"big")),
    ("zip-byteorder-junk.pt", "byteorder is neither little nor big (scan exits 0: its pickle is safe)", lambda: torch_zip(tensor_pkl(), byteorder=b"middle")),
    ("zip-pkl-garbage.pt", "data.pkl is random bytes (unknown opcode)", lambda: torch_zip(b"\x80\x02\xff\xfe\xfd")),
    ("zip-pkl-truncated.pt", "data.pkl ends without STOP", lambda: torch_zip(tensor_pkl()[:-3])),
    ("zip-pkl-empty-stack.pt", "data.pkl pops from an empty stack", lambda: torch_zip(b"\x80\x020.")),
    ("zip-view-outside.pt", "tensor view reaches past its storage (offset 100) (scan exits 0: its pickle is safe; the view is the problem)", lambda: torch_zip(tensor_pkl(offset=100))),
    ("zip-stride-mismatch.pt", "2 strides for 1 dimension (scan exits 0: its pickle is safe; the view is the problem)", lambda: torch_zip(tensor_pkl(stride=(1, 1)))),
    ("zip-negative-stride.pt", "negative stride (scan exits 0: its pickle is safe; the view is the problem)", lambda: torch_zip(tensor_pkl(stride=(-1,)))),
    ("zip-huge-numel.pt", "storage numel overflows bytes (scan exits 0: its pickle is safe; the sizes are the problem)", lambda: torch_zip(tensor_pkl(numel=2**62))),
    ("zip-bad-storage-type.pt", "unknown storage type torch.EvilStorage", lambda: torch_zip(tensor_pkl(storage="EvilStorage"))),
    ("zip-too-many-dims.pt", "tensor with 65 dimensions (scan exits 0: its pickle is safe; the shape is the problem)", lambda: torch_zip(tensor_pkl(shape=(1,) * 65, stride=(1,) * 65))),
    ("zip-long-int.pt", "a 100k-digit protocol-0 LONG literal (quadratic to convert) (scan exits 0: the scanner reads the literal without converting it)", lambda: torch_zip(b"L" + b"7" * 100_000 + b"L\n.")),
    ("zip-bomb.pt", "data.pkl deflated, directory claims 1.5 GB (decompression bomb)", lambda: zip_bomb()),
    ("zip-name-mismatch.pt", "local header and central directory disagree on data.pkl's name", lambda: (lambda d: d.replace(b"archive/data.pkl", b"archive/data.pkX", 1))(torch_zip(tensor_pkl()))),
    # --- legacy ---
    ("legacy-bad-magic.pt", "first pickle is not the legacy magic number", lambda: pickle.dumps(12345, protocol=2) + good_legacy()[20:]),
    ("legacy-bad-version.pt", "legacy protocol version 1000 (scan exits 0: its pickles are plain literals)", lambda: legacy_parts(version=1000) + good_legacy()[len(legacy_parts()):]),
    ("legacy-sysinfo-list.pt", "sys_info is a list, not a dict (scan exits 0: its pickles are plain literals)", lambda: legacy_parts(sysinfo=[1, 2]) + good_legacy()[len(legacy_parts()):]),
    ("legacy-big-endian.pt", "sys_info says big-endian (scan exits 0: its pickles are safe; the byte order is the problem)", lambda: legacy_parts(sysinfo={"protocol_version": 1001, "little_endian": False, "type_sizes": {}}) + good_legacy()[len(legacy_parts()):]),
    ("legacy-truncated.pt", "legacy file cut inside its storage bytes", lambda: good_legacy()[:-8]),
    ("legacy-no-keys.pt", "legacy file ends after the object pickle (no storage key list) (scan exits 0: the pickles present are safe)", lambda: legacy_no_keys()),
    ("legacy-count-huge.pt", "storage element count 2^60 in the legacy data section", lambda: legacy_count_huge()),
    ("old-tar.pt", "a tar archive (torch < 0.4 format)", tar_like),
    # --- raw pickles ---
    ("malicious.pkl", "a raw pickle that calls os.system", lambda: pickle.dumps(Evil(), protocol=2)),
    ("unknown-opcode.pkl", "a pickle with opcode 0xff", lambda: b"\x80\x02\xff."),
    ("no-stop.pkl", "a pickle without STOP", lambda: b"\x80\x02}q\x00(X\x01\x00\x00\x00aK\x01u"),
    ("protocol-9.pkl", "pickle protocol 9 (scan exits 0: Python refuses the protocol, so nothing can run)", lambda: b"\x80\x09}."),
    ("binunicode-huge.pkl", "BINUNICODE claims 4 GB", lambda: b"\x80\x02X\xff\xff\xff\xffabc."),
    ("plain-dict.pkl", "a pickle of a plain dict: not a torch.save file (scan exits 0: it is safe)", lambda: pickle.dumps({"a": 1}, protocol=2)),
    # --- numpy ---
    ("object-array.npy", "a .npy object array pickles os.system", lambda: npy(np.array([Evil()], dtype=object))),
    ("bad-header.npy", "a .npy whose header is not a dict", lambda: b"\x93NUMPY\x01\x00\x10\x00" + b"not a dict!!!!\n" + b"\x00"),
    ("object-arrays.npz", "an .npz holding an object array that pickles os.system", lambda: npz(a=np.array([Evil()], dtype=object))),
    ("random.bin", "1 kB of random bytes", lambda: bytes((i * 7919 + 13) % 251 for i in range(1024))),
    # --- impostors named like torch checkpoints, limits (each message of tests/error_messages.rs) ---
    ("lfs-pointer.bin", "a Git LFS pointer named .bin", lambda: b"version https://git-lfs.github.com/spec/v1\noid sha256:" + b"0" * 64 + b"\nsize 12345\n"),
    ("html-page.bin", "an HTML error page named .bin", lambda: b"<!DOCTYPE html><html><body>Sign in to continue</body></html>\n"),
    ("gzip.pt", "a torch.save file compressed with gzip (scan exits 0: scan decompresses it; its pickle is safe)", lambda: gzip.compress(good_zip(), mtime=0)),
    ("gguf-count-huge.gguf", "GGUF header claims 2^62 tensors", lambda: b"GGUF" + struct.pack("<IQQ", 3, 2**62, 0)),
    ("gguf-version-9.gguf", "GGUF version 9", lambda: b"GGUF" + struct.pack("<IQQ", 9, 0, 0)),
    # --- folders ---
    ("folder-empty/", "a folder with no checkpoint files (scan exits 0: nothing to scan)", lambda: folder({".keep": b""})),
    ("folder-index-not-json/", "model.safetensors.index.json is not JSON (scan exits 0: the shard is safe)", lambda: folder({"model.safetensors.index.json": b"{not json", "model-00001-of-00001.safetensors": shard()})),
    ("folder-index-missing-shard/", "the index maps a tensor to a shard that does not exist (scan exits 0: the shard present is safe)", lambda: folder({"model.safetensors.index.json": json.dumps({"weight_map": {"a.weight": "model-00001-of-00002.safetensors", "b.weight": "model-00002-of-00002.safetensors"}}).encode(), "model-00001-of-00002.safetensors": shard()})),
    ("folder-index-escape/", "the index names a shard outside the folder (../) (scan exits 0: the shard present is safe)", lambda: folder({"model.safetensors.index.json": json.dumps({"weight_map": {"a.weight": "../outside.safetensors"}}).encode(), "model.safetensors": shard()})),
    ("folder-index-wrong-map/", "the shard holds a tensor the index maps elsewhere (scan exits 0: the shards are safe)", lambda: folder({"model.safetensors.index.json": json.dumps({"weight_map": {"a.weight": "s2.safetensors", "b.weight": "s1.safetensors"}}).encode(), "s1.safetensors": shard("a.weight"), "s2.safetensors": shard("b.weight")})),
    ("folder-index-weight-map-list/", "weight_map is a list (scan exits 0: the shard is safe)", lambda: folder({"model.safetensors.index.json": b'{"weight_map": ["a"]}', "model.safetensors": shard()})),
    ("folder-bin-index-missing/", "pytorch_model.bin.index.json names a missing shard (scan exits 0: nothing else to scan)", lambda: folder({"pytorch_model.bin.index.json": json.dumps({"weight_map": {"w": "pytorch_model-00001-of-00001.bin"}}).encode()})),
    ("folder-diffusers-bad-index/", "model_index.json is not JSON (scan exits 0: the weights are safe)", lambda: folder({"model_index.json": b"[[[", "unet/diffusion_pytorch_model.safetensors": shard()})),
    ("folder-bad-shard/", "a valid index whose shard has a broken header", lambda: folder({"model.safetensors.index.json": json.dumps({"weight_map": {"a.weight": "model.safetensors"}}).encode(), "model.safetensors": st(b"{oops}  ")})),
]


def zip_bomb():
    # 64 MB of zeros deflated (64 kB) in an entry whose directory claims 1.5 GB
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = bytes(1 << 20)
    raw = b"".join(c.compress(chunk) for _ in range(64)) + c.flush()
    size = 1536 << 20
    name = b"archive/data.pkl"
    crc = 0
    for _ in range(64):
        crc = zlib.crc32(chunk, crc)
    local = b"PK\x03\x04" + struct.pack("<HHHHHIIIHH", 20, 0, 8, 0, 0, crc, len(raw), size, len(name), 0) + name
    cd = b"PK\x01\x02" + struct.pack("<HHHHHHIIIHHHHHII", 20, 20, 0, 8, 0, 0, crc, len(raw), size, len(name), 0, 0, 0, 0, 0, 0) + name
    end = b"PK\x05\x06" + struct.pack("<HHHHIIH", 0, 0, 1, 1, len(cd), len(local) + len(raw), 0)
    return local + raw + cd + end


def local_offset_past_eof():
    d = bytearray(torch_zip(tensor_pkl()))
    cd = d.index(b"PK\x01\x02")  # data.pkl is the first central directory entry
    d[cd + 42 : cd + 46] = struct.pack("<I", 0x7FFFFFF0)
    return bytes(d)


def legacy_no_keys():
    # magic, version, sys_info, the object pickle; nothing after
    d = good_legacy()
    n = len(legacy_parts())
    import pickletools
    end = n
    for op, arg, pos in pickletools.genops(d[n:]):
        if op.name == "STOP":
            end = n + pos + 1
            break
    return d[:end]


def legacy_count_huge():
    d = bytearray(good_legacy())
    # storage data: the last 16 bytes are the 4 floats, the 8 before them the element count
    d[-24:-16] = struct.pack("<Q", 1 << 60)
    return bytes(d)


def main():
    for e in os.listdir(HERE):
        if e not in ("make_bad.py", "EXPECTED.txt"):
            p = os.path.join(HERE, e)
            shutil.rmtree(p) if os.path.isdir(p) else os.remove(p)
    lines = ["# Malformed inputs", "",
             "Hand-built bad files, one per line: what is wrong with it. Written by `make_bad.py` (run it with a",
             "Python that has torch and numpy); `tests/bad_corpus.rs` runs `inspect` and `scan` on every entry:",
             "inspect must exit 2 with one `error:` line; scan must exit 1 or 2 unless the line says",
             "`(scan exits 0: …)`. Folders end with `/`. `tests/error_messages.rs` compares the exact",
             "messages of `inspect` and `scan` with `EXPECTED.txt` (`UPDATE_EXPECTED=1` rewrites it).", ""]
    for name, reason, make in CASES:
        content = make()
        if name.endswith("/"):
            for rel, b in content.items():
                p = os.path.join(HERE, name, rel)
                os.makedirs(os.path.dirname(p), exist_ok=True)
                open(p, "wb").write(b)
        else:
            open(os.path.join(HERE, name), "wb").write(content)
        lines.append(f"- `{name}`: {reason}")
    open(os.path.join(HERE, "README.md"), "w").write("\n".join(lines) + "\n")
    print(len(CASES), "cases")


main()
