# Compressed streams that stop being readable after the payload: joblib and gzip read lazily, so the
# pickle runs before the loader reaches the damage. Before review 36 the scan called these
# "cannot scan" (suspicious) without looking at what came before the damage.
import gzip, os, zlib, struct
import lz4.frame
from h import *

big = b"B" + struct.pack("<I", 1 << 20) + bytes(1 << 20) + b"0"   # 1 MiB of bytes, popped
skip = struct.pack("<II", 0x184D2A5A, 5) + b"decoy"

def put(name, data):
    open(os.path.join(OUT, name), "wb").write(data)

# LZ4: the pickle split over two frames with a skippable frame between, which liblz4 skips
p = evil(1)
put("review36-lz4_two_frames.pkl.lz4", lz4.frame.compress(p[:20]) + skip + lz4.frame.compress(p[20:]))
report("review36-lz4_two_frames.pkl.lz4", 1, "joblib")
# LZ4, zlib, gzip: the payload, 1 MiB more, then bytes that are no frame/stream/member
put("review36-lz4_trailing.pkl.lz4", lz4.frame.compress(evil(2, big)) + b"not a frame" * 3)
report("review36-lz4_trailing.pkl.lz4", 2, "joblib")
put("review36-zlib_trailing.pkl.z", zlib.compress(evil(3, big)) + b"not a stream" * 3)
report("review36-zlib_trailing.pkl.z", 3, "joblib")
put("review36-gzip_trailing.pkl.gz", gzip.compress(evil(4, big)) + b"not a member" * 3)
report("review36-gzip_trailing.pkl.gz", 4, "gzip")
