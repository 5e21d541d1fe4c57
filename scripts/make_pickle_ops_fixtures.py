"""Pickles of one varied object at every protocol, with pickletools' (offset, opcode name) listing,
so the Rust opcode decoder can be checked against Python's own disassembler without Python."""
import collections, pickle, pickletools, sys, pathlib

out = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "tests/data/pickle")
out.mkdir(parents=True, exist_ok=True)
shared = [1, 2]
obj = {
    "ints": [0, 1, 255, 256, 65535, 65536, -1, 2**31 - 1, -2**31, 2**40, -2**70, 2**200],
    "floats": [0.5, -1e300, float("inf")],
    "text": ["", "a", "é\n\x00", "x" * 300],
    "bytes": [b"", b"\x00\xff", b"y" * 300, bytearray(b"ba")],
    "bools": [True, False, None],
    "tuples": [(), (1,), (1, 2), (1, 2, 3), (1, 2, 3, 4)],
    "sets": [set(), {1, 2}, frozenset({3})],
    "od": collections.OrderedDict([("k", shared), ("k2", shared)]),
}
for proto in range(0, 6):
    data = pickle.dumps(obj, protocol=proto)
    (out / f"ops_proto{proto}.pkl").write_bytes(data)
    lines = [f"{pos} {op.name}" for op, arg, pos in pickletools.genops(data)]
    (out / f"ops_proto{proto}.txt").write_text("\n".join(lines) + "\n")
