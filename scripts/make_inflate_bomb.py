"""Write tests/data/robust/pickle-bomb-100m.pt: a torch-style zip whose deflated data.pkl (about 100 KB
in the file) inflates to 100 MB of harmless opcodes (EMPTY_TUPLE, POP, ...): over the readers' 64 MiB
limit on inflated pickles, under the former 1 GiB one. Run with any Python 3; the file is committed."""
import os
import zipfile

SIZE = 100_000_000
here = os.path.dirname(os.path.abspath(__file__))
out = os.path.join(here, "..", "tests", "data", "robust", "pickle-bomb-100m.pt")
body = b"\x80\x02" + b")0" * ((SIZE - 4) // 2) + b"}."
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
    z.writestr("archive/data.pkl", body)
    z.writestr("archive/version", b"3\n")
    z.writestr("archive/byteorder", b"little")
print(out, os.path.getsize(out))
