# Files whose first bytes tensorscope's sniffing read more strictly than the loader, so a folder scan
# skipped them as "not a checkpoint" (names that claim no checkpoint format).
import lzma, os
from h import *

def put(name, data):
    open(os.path.join(OUT, name), "wb").write(data)

# joblib sniffs LZMA "alone" by `5d 00` only; a 4 KiB dictionary starts `5d 00 10 00 00`
put("review36-lzma_dict4k.save", lzma.compress(evil(11), format=lzma.FORMAT_ALONE,
    filters=[{"id": lzma.FILTER_LZMA1, "dict_size": 4096}]))
report("review36-lzma_dict4k.save", 11, "joblib")
# BINUNICODE holding an encoded lone surrogate, which CPython decodes with surrogatepass, then POP
put("review36-surrogate.weights", b"X\x03\x00\x00\x00\xed\xa0\x80" + b"0" + evil(12)[2:])
report("review36-surrogate.weights", 12, "pickle")
