# Legacy (non-zip) torch.save file whose object pickle holds the NumpyArrayWrapper trick of gen.py:
# the scanner's legacy() walks each of the five pickles with the joblib-following walk only.
import os, pickle, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen import wrapper_pickle
here = os.path.dirname(os.path.abspath(__file__))
sys_info = dict(protocol_version=1001, little_endian=True, type_sizes=dict(short=2, int=4, long=4))
data = (pickle.dumps(0x1950a86a20f9469cfc6c, protocol=2) + pickle.dumps(1001, protocol=2)
        + pickle.dumps(sys_info, protocol=2) + wrapper_pickle("/tmp/review39/pwned_jw_legacy")
        + pickle.dumps([], protocol=2))
open(os.path.join(here, "jw_legacy.pt"), "wb").write(data)
