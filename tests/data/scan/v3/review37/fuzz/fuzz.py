#!/tmp/peers/bin/python
"""Differential fuzzer: CPython's unpicklers (oracle_worker.py) vs `tensorscope scan --json`.

usage: fuzz.py [--gen NAME[,NAME]] [--n CASES] [--batch N] [--seed S] [--keep]
Generators: grammar, sandwich, mutate, alias.  Results: /tmp/r37d/results/<gen>.jsonl, summary on stdout;
disagreements are copied to /tmp/r37d/cases/<gen>-<id>.pkl.
"""
import argparse, json, os, random, shutil, struct, subprocess, sys, time, io, pickle, zipfile

HERE = '/tmp/r37d'
TS = HERE + '/ts'
PY = '/tmp/peers/bin/python'
WORKER = HERE + '/oracle_worker.py'
CMD = 'touch /tmp/r37d/pwned'

# ---------------------------------------------------------------- pickle building helpers
def sbu(s):
    b = s.encode('utf-8', 'surrogatepass') if isinstance(s, str) else s
    return b'\x8c' + bytes([len(b)]) + b

def bu(s):
    b = s.encode('utf-8', 'surrogatepass') if isinstance(s, str) else s
    return b'X' + struct.pack('<I', len(b)) + b

def bu8(s):
    b = s.encode('utf-8', 'surrogatepass') if isinstance(s, str) else s
    return b'\x8d' + struct.pack('<Q', len(b)) + b

def sbs(s):
    b = s.encode('latin-1') if isinstance(s, str) else s
    return b'U' + bytes([len(b)]) + b

def bs(s):
    b = s.encode('latin-1') if isinstance(s, str) else s
    return b'T' + struct.pack('<i', len(b)) + b

def S_str(s, rnd):
    """protocol-0 STRING with random quoting and escapes"""
    q = rnd.choice(["'", '"'])
    out = ''
    for ch in s:
        r = rnd.random()
        if r < 0.15:
            out += '\\x%02x' % ord(ch)
        elif r < 0.3:
            out += '\\%03o' % ord(ch)
        else:
            out += ch
    return b'S' + (q + out + q).encode() + b'\n'

def V_str(s, rnd):
    out = ''
    for ch in s:
        r = rnd.random()
        if r < 0.2:
            out += '\\u%04x' % ord(ch)
        elif r < 0.3:
            out += '\\U%08x' % ord(ch)
        else:
            out += ch
    return b'V' + out.encode('latin-1') + b'\n'

def text_str(s, rnd, proto):
    """a str (or py2 str) on the stack, in any form CPython turns into str"""
    forms = ['V', 'S', 'U', 'T']
    if proto >= 4:
        forms += ['sbu', 'bu8']
    forms += ['bu']
    f = rnd.choice(forms)
    if f == 'V': return V_str(s, rnd)
    if f == 'S': return S_str(s, rnd)
    if f == 'U': return sbs(s)
    if f == 'T': return bs(s)
    if f == 'sbu': return sbu(s)
    if f == 'bu8': return bu8(s)
    return bu(s)

def uni_str(s, rnd, proto):
    """a str (not py2 str: STACK_GLOBAL needs str; py2 strings are str with the default encoding ASCII)"""
    return text_str(s, rnd, proto)


class Memo:
    def __init__(self):
        self.n = 0
        self.used = set()

def put(rnd, memo, proto):
    """a random PUT form; returns (bytes, index)"""
    forms = ['p', 'q', 'r']
    if proto >= 4:
        forms.append('M')
    f = rnd.choice(forms)
    if f == 'M':
        idx = len(memo.used)
        # MEMOIZE stores at len(memo)
        memo.used.add(idx)
        return b'\x94', idx
    idx = rnd.choice([len(memo.used), rnd.randrange(0, 300), rnd.randrange(0, 70000)])
    if f == 'q':
        idx %= 256
    memo.used.add(idx)
    if f == 'p':
        txt = rnd.choice(['%d', ' %d', '%d ', '+%d', '0%d', '%d\x00junk', '%d\r'])
        t = txt % idx
        if '_' not in t and idx >= 10 and rnd.random() < 0.2:
            t = str(idx)[0] + '_' + str(idx)[1:]
        return b'p' + t.encode() + b'\n', idx
    if f == 'q':
        return b'q' + bytes([idx]), idx
    return b'r' + struct.pack('<I', idx), idx

def get(rnd, idx):
    f = rnd.choice(['g', 'h', 'j'] if idx < 256 else ['g', 'j'])
    if f == 'g':
        t = rnd.choice(['%d', ' %d', '%d ', '+%d', '0%d', '%d\x00x', '%d\r']) % idx
        return b'g' + t.encode() + b'\n'
    if f == 'h':
        return b'h' + bytes([idx])
    return b'j' + struct.pack('<I', idx)

# targets: (module, name, protocol needed (0: any), what a call does)
TARGETS = [
    ('posix', 'system', 0), ('os', 'system', 0), ('subprocess', 'getoutput', 0), ('builtins', 'exec', 0),
    ('builtins', 'eval', 0), ('__builtin__', 'eval', 0), ('__builtin__', 'exec', 0), ('os', 'popen', 0),
    ('subprocess', 'check_output', 0), ('posixpath', 'os.system', 4),
    ('commands', 'getoutput', 0), ('nturl2path', 'os.system', 4), ('os', 'path.os.system', 4),
]

def arg_for(target, rnd):
    m, n, _ = target
    if 'exec' in n or 'eval' in n:
        return "__import__('os').system('%s')" % CMD
    return CMD

def wrap_noise(rnd, proto):
    """a harmless opcode run that leaves the stack as it was"""
    c = rnd.choice(['N0', '(1', ')0', 'K\x010', 'I7\n0', '(0', 'N20', 'NN00', '}0', ']0', 'N\x940' if proto >= 4 else 'N0',
                    'F1.5\n0', 'L12L\n0', 'I00\n0', "S'x'\n0", 'Vab\n0', 'P0\n0' , '\x88\x890' + '0', 'N\x85\x85\x850'])
    return c.encode('latin-1')

def gen_grammar(rnd):
    proto = rnd.choice([0, 1, 2, 3, 4, 5, 4, 4, 2])
    target = rnd.choice(TARGETS)
    m, n, need = target
    if need > proto:
        proto = need
    memo = Memo()
    body = []
    # the callable
    way = rnd.choice(['GLOBAL', 'STACK_GLOBAL', 'INST', 'GLOBAL', 'STACK_GLOBAL']) if proto >= 4 else rnd.choice(['GLOBAL', 'INST', 'SGLOBAL_memo'])
    a = arg_for(target, rnd)
    if way == 'SGLOBAL_memo':
        way = 'GLOBAL'
    call = rnd.choice(['REDUCE', 'OBJ', 'REDUCE', 'NEWOBJ', 'BUILD_REDUCE'])
    if way == 'INST':
        argb = text_str(a, rnd, proto)
        body.append(b'(' + argb + b'i' + m.encode() + b'\n' + n.encode() + b'\n')
    else:
        if way == 'GLOBAL':
            cb = b'c' + m.encode() + b'\n' + n.encode() + b'\n'
        else:
            ms, ns = uni_str(m, rnd, proto), uni_str(n, rnd, proto)
            if rnd.random() < 0.4:
                p, i = put(rnd, memo, proto)
                ms = ms + p + b'0' + get(rnd, i) if rnd.random() < 0.5 else ms + p
            if rnd.random() < 0.3:
                ms = ms + b'2' + b'0'  # DUP POP
            if rnd.random() < 0.2:
                # via a memo slot reached by GET after popping
                p, i = put(rnd, memo, proto)
                ns = ns + p + b'0' + get(rnd, i)
            if rnd.random() < 0.2:
                ms, ns = ms + wrap_noise(rnd, proto), ns
            cb = ms + ns + b'\x93'
        if rnd.random() < 0.3:
            p, i = put(rnd, memo, proto)
            cb += p
            if rnd.random() < 0.5:
                cb += b'0' + get(rnd, i)
        argb = text_str(a, rnd, proto)
        if call == 'OBJ':
            body.append(b'(' + cb + argb + b'o')
        elif call == 'NEWOBJ' and proto >= 2:
            body.append(cb + argb + b'\x85\x81')
        else:
            tup = rnd.choice(['(' + 'X' + 't', 'X\x85' if proto >= 2 else '(Xt'])
            pre, post = tup.split('X')
            body.append(cb + pre.encode('latin-1') + argb + post.encode('latin-1') + b'R')
    # noise around
    out = b''
    if proto >= 2 or rnd.random() < 0.3:
        out += b'\x80' + bytes([proto if rnd.random() < 0.9 else rnd.choice([0, 1, 6, 255])])
    pieces = []
    for _ in range(rnd.randrange(0, 3)):
        pieces.append(wrap_noise(rnd, proto))
    pieces += body
    for _ in range(rnd.randrange(0, 3)):
        pieces.insert(rnd.randrange(len(pieces) + 1), wrap_noise(rnd, proto))
    core = b''.join(pieces) + b'.'
    if proto >= 4 and rnd.random() < 0.6:
        # frames: one, several, or misaligned
        style = rnd.choice(['one', 'split', 'short', 'long', 'empty'])
        if style == 'one':
            core = b'\x95' + struct.pack('<Q', len(core)) + core
        elif style == 'split' and len(core) > 2:
            k = rnd.randrange(1, len(core))
            core = b'\x95' + struct.pack('<Q', k) + core[:k] + b'\x95' + struct.pack('<Q', len(core) - k) + core[k:]
        elif style == 'short' and len(core) > 2:
            core = b'\x95' + struct.pack('<Q', rnd.randrange(1, len(core))) + core
        elif style == 'long':
            core = b'\x95' + struct.pack('<Q', len(core) + rnd.randrange(1, 5)) + core + b'N' * rnd.randrange(0, 6)
        else:
            core = b'\x95' + struct.pack('<Q', 0) + core
    out += core
    # a benign pickle first / PROTO in the middle / junk after
    r = rnd.random()
    if r < 0.15:
        out = pickle.dumps(rnd.choice([1, 'a', {'a': [1, 2]}, None]), protocol=rnd.randrange(0, 6)) + out
    elif r < 0.25:
        out = out + pickle.dumps({'x': 1}, protocol=rnd.randrange(0, 6))
    elif r < 0.3:
        out = b'\x80\x02' + b'N0' + b'\x80\x05' + out[2:] if out.startswith(b'\x80') else out
    return out

# ---------------------------------------------------------------- sandwich: odd prefix + protocol-0 payload
def rand_text(rnd, alphabet, n):
    return bytes(rnd.choice(alphabet) for _ in range(n))

NUMCH = b'0123456789+-_ xXoObBeE.Lnaif\x00\r\t\x0b\x0cjJ\xff\xe9'
def odd_snippet(rnd):
    """one opcode with an odd argument; followed by POP so a successful read leaves the stack unchanged"""
    k = rnd.choice(['I', 'L', 'F', 'S', 'V', 'p', 'g', 'P', 'c', 'i', 'misc', 'misc', 'bin'])
    if k in 'ILF':
        t = rand_text(rnd, NUMCH, rnd.randrange(0, 8))
        if rnd.random() < 0.5:
            t = rnd.choice([b'1', b'0', b'-1', b'0x10', b'1e5', b'inf', b'nan', b'12', b'007', b'1_000', b'9' * 25]) + t[:2]
        return k.encode() + t + b'\n0'
    if k == 'S':
        q = rnd.choice([b"'", b'"'])
        body = rand_text(rnd, b"ab\\x0127'\"nrtu\xff\x00 \r", rnd.randrange(0, 8))
        return b'S' + q + body + rnd.choice([q, q, b"'", b'"']) + rnd.choice([b'', b'', b'\r', b' ']) + b'\n0'
    if k == 'V':
        body = rand_text(rnd, b"ab\\uU0123456789abcdefABCDEF\xff\x00\r ", rnd.randrange(0, 12))
        return b'V' + body + b'\n0'
    if k in 'pg':
        t = rand_text(rnd, b'0123456789+-_ \x00\r\t', rnd.randrange(0, 5))
        # put something, put/get with odd text
        return b'N' + b'p' + t + b'\n' + b'0' + (b'g' + t + b'\n0' if k == 'g' else b'')
    if k == 'P':
        return b'P' + rand_text(rnd, b'ab\x00\r\xff 1', rnd.randrange(0, 5)) + b'\n0'
    if k in 'ci':
        # a harmless global whose line has odd bytes (CPython fails to import it unless it is valid)
        mod = rnd.choice([b'collections', b'builtins', b'copy_reg', b'__builtin__'])
        name = rnd.choice([b'OrderedDict', b'set', b'_reconstructor', b'object', b'int'])
        tail = rnd.choice([b'', b'', b'\r', b' ', b'\x00'])
        if k == 'c':
            return b'c' + mod + tail + b'\n' + name + b'\n0'
        return b'(i' + mod + b'\n' + name + tail + b'\n0'
    if k == 'bin':
        return rnd.choice([b'J\xff\xff\xff\xff0', b'K\x000', b'M\x00\x000', b'\x8a\x00' + b'0', b'\x8b\x00\x00\x00\x000',
                           b'\x8a\x01\xff0', b'G' + os.urandom(8) + b'0', b'B\x00\x00\x00\x000', b'C\x000',
                           b'\x8e' + b'\x00' * 8 + b'0', b'\x96' + b'\x00' * 8 + b'0', b'U\x00' + b'0', b'T\x00\x00\x00\x00' + b'0',
                           b'\x8d' + b'\x00' * 8 + b'0', b'X\x00\x00\x00\x000', b'\x8c\x000', b'\x8c\x02\xed\xa0' + b'0'])
    return rnd.choice([b'(1', b'(0', b'N0', b'(((111', b'(N10', b'}(u', b'](e', b'((t0', b')0', b'N\x85\x85\x850',
                       b'\x80\x02', b'\x80\x05', b'\x80\x00', b'\x80\xff', b'\x95' + b'\x00' * 8, b'\x95\x03' + b'\x00' * 7,
                       b'N.', b'N\x94\x94\x94h\x00\x85\x850', b'(\x8f\x90', b'(\x91\x91\x910', b'(d0', b'(l0', b'}N\x88s',
                       b']N\x88\x86e', b'N]N\x85b0', b'N(\x97\x981', b'NN\x850'])

def p0_payload(rnd):
    t = rnd.choice([('posix', 'system'), ('os', 'system'), ('subprocess', 'getoutput')])
    return b'c' + t[0].encode() + b'\n' + t[1].encode() + b'\n(' + b"S'" + CMD.encode() + b"'\ntR."

def gen_sandwich(rnd):
    pre = b''.join(odd_snippet(rnd) for _ in range(rnd.randrange(1, 4)))
    if rnd.random() < 0.3:
        pre = b'\x80' + bytes([rnd.randrange(0, 6)]) + pre
    return pre + p0_payload(rnd)

# ---------------------------------------------------------------- mutate real pickles
class R:
    def __init__(self, f, a): self.f, self.a = f, a
    def __reduce__(self): return (self.f, self.a)

def corpus():
    out = []
    objs = [
        {'a': 1, 'b': [1.5, 'x', None, True], 'c': (1, 2)},
        [R(os.system, (CMD,))],
        {'w': R(os.system, (CMD,)), 'k': list(range(5))},
        (R(eval, ("__import__('os').system('%s')" % CMD,)),),
        {'x': b'bytes', 's': {1, 2}, 'f': frozenset([3])},
    ]
    for o in objs:
        for p in range(6):
            out.append(('obj-p%d' % p, pickle.dumps(o, protocol=p)))
    try:
        import torch, numpy as np
        for i, o in enumerate([{'w': torch.zeros(3)}, {'m': torch.nn.Linear(2, 2).state_dict(), 'evil': R(os.system, (CMD,))}]):
            b = io.BytesIO(); torch.save(o, b)
            z = zipfile.ZipFile(io.BytesIO(b.getvalue()))
            for nm in z.namelist():
                if nm.endswith('data.pkl'):
                    out.append(('torch%d' % i, z.read(nm)))
        import joblib
        for i, o in enumerate([{'a': np.arange(10)}, [np.arange(4), R(os.system, (CMD,))], np.array([1, 'x', None], dtype=object)]):
            b = io.BytesIO(); joblib.dump(o, b)
            out.append(('joblib%d' % i, b.getvalue()))
    except Exception as e:
        print('corpus: torch/joblib skipped:', e, file=sys.stderr)
    return out

_CORPUS = None
def gen_mutate(rnd):
    global _CORPUS
    if _CORPUS is None:
        _CORPUS = corpus()
    name, b = rnd.choice(_CORPUS)
    b = bytearray(b)
    splices = [p0_payload(rnd)[:-1], b'cposix\nsystem\n', b'\x8c\x05posix\x8c\x06system\x93', b'(Vtouch /tmp/r37d/pwned\ntR',
               b'\x80\x02', b'\x80\x04\x95', b'0', b'(', b'.', b'N', b'2', b'1', b'\x94', b'h\x00', b'\x85R']
    for _ in range(rnd.randrange(1, 5)):
        op = rnd.random()
        pos = rnd.randrange(0, len(b) + 1)
        if op < 0.25 and len(b):
            b[min(pos, len(b) - 1)] = rnd.randrange(256)
        elif op < 0.4 and len(b):
            del b[pos:pos + rnd.randrange(1, 4)]
        elif op < 0.75:
            b[pos:pos] = rnd.choice(splices)
        elif op < 0.85 and len(b) > 4:
            i = rnd.randrange(len(b)); j = min(len(b), i + rnd.randrange(1, 16))
            b[pos:pos] = b[i:j]
        else:
            # rewrite a length field right after a FRAME or string opcode
            i = b.find(rnd.choice([b'\x95', b'\x8c', b'X', b'B', b'T', b'U']))
            if i >= 0 and i + 2 < len(b):
                b[i + 1] = (b[i + 1] + rnd.choice([-2, -1, 1, 2, 5])) % 256
    return bytes(b)

# ---------------------------------------------------------------- alias: dotted names reaching dangerous objects
ALIAS_CACHE = HERE + '/alias_names.json'
def alias_names():
    if os.path.exists(ALIAS_CACHE):
        return json.load(open(ALIAS_CACHE))
    code = r'''
import sys, json, builtins, os, posix, subprocess, importlib, types
import collections, codecs, functools, operator, copyreg, pathlib, posixpath, genericpath, shutil, tempfile, enum, typing
import numpy, torch, torch._utils, torch.nn, numpy.core.multiarray
danger = {id(os.system): 'posix.system', id(builtins.exec): 'builtins.exec', id(builtins.eval): 'builtins.eval',
          id(subprocess.Popen): 'subprocess.Popen', id(subprocess.getoutput): 'subprocess.getoutput', id(os.popen): 'os.popen',
          id(builtins.__import__): 'builtins.__import__', id(builtins.getattr): 'builtins.getattr',
          id(importlib.import_module): 'importlib.import_module'}
roots = ['builtins', 'collections', 'copyreg', 'torch', 'torch._utils', 'numpy', 'numpy.core.multiarray', 'codecs', '_codecs',
         'functools', 'operator', 'typing', 'enum', 'pathlib', 'genericpath', 'posixpath', 'torch.nn', 'torch.serialization',
         'collections.abc', 'math', 'torch.storage', 'numpy.dtypes', 'torch.nn.modules.linear', 'torch.nn.parameter']
out = []
seen = set()
def walk(obj, path, depth):
    if depth > 3: return
    try:
        names = dir(obj)
    except Exception:
        return
    for a in names:
        if a in ('__globals__', '__dict__', '__builtins__', '__class__', '__base__', '__mro__', '__bases__', '__subclasses__'): continue
        if a.startswith('__') and a not in ('__self__', '__module__', '__wrapped__', '__func__', '__objclass__', '__loader__'): continue
        try:
            v = getattr(obj, a)
        except Exception:
            continue
        p = path + [a]
        if id(v) in danger:
            out.append(p + [danger[id(v)]])
            continue
        if isinstance(v, (types.ModuleType, type, types.BuiltinFunctionType, types.FunctionType)) and depth < 3:
            key = (id(v), depth)
            if key in seen: continue
            seen.add(key)
            walk(v, p, depth + 1)
for r in roots:
    m = sys.modules.get(r) or importlib.import_module(r)
    walk(m, [r], 0)
json.dump(out[:20000], sys.stdout)
'''
    r = subprocess.run([PY, '-c', code], capture_output=True, timeout=600)
    names = json.loads(r.stdout or b'[]')
    json.dump(names, open(ALIAS_CACHE, 'w'))
    return names

_ALIAS = None
def gen_alias(rnd, i=[0]):
    global _ALIAS
    if _ALIAS is None:
        _ALIAS = alias_names()
    if i[0] >= len(_ALIAS):
        return None
    p = _ALIAS[i[0]]; i[0] += 1
    mod, name = p[0], '.'.join(p[1:-1])
    a = "__import__('os').system('%s')" % CMD if 'exec' in p[-1] or 'eval' in p[-1] else CMD
    return b'\x80\x04' + sbu(mod) + sbu(name) + b'\x93' + sbu(a) + b'\x85R.'

# ---------------------------------------------------------------- straddle: frames that end inside a text line
def gen_straddle(rnd):
    body = b''.join(odd_snippet(rnd) for _ in range(rnd.randrange(0, 2)) if False) + p0_payload(rnd)
    if rnd.random() < 0.5:
        body = b"Vcollections\np2\n0" + body
    out = b'\x80' + bytes([rnd.choice([4, 4, 5, 2])])
    pos = 0
    for _ in range(rnd.randrange(1, 4)):
        if pos >= len(body) - 1:
            break
        cut = rnd.randrange(pos + 1, len(body))
        seg = body[pos:cut]
        if rnd.random() < 0.5:
            seg += rnd.choice([b'foo', b'collections', b'x', b'torch._utils', b'0'])
        n = len(seg) + rnd.choice([0, 0, 0, -1, 1])
        out += b'\x95' + struct.pack('<Q', max(n, 0)) + seg
        pos = cut
    return out + body[pos:]

# ---------------------------------------------------------------- pyfloat: FLOAT texts Python's float() reads
def gen_pyfloat(rnd):
    t = rnd.choice([b'1', b'1.5', b'inf', b'-nan', b'1e3', b'1_0', b'1_0.5', b'0x1', b'1.', b'.5', b'Infinity', b'1E+2'])
    t = rnd.choice([b'', b' ', b'\t', b'\x0b', b'\x0c', b'\r', b'\x00']) + t + rnd.choice([b'', b' ', b'\t', b'\x0b', b'\x0c', b'\r', b'\x00'])
    pre = rnd.choice([b'', b'\x80\x02', b'\x80\x04'])
    return pre + b'F' + t + b'\n0' + p0_payload(rnd)

GENS = {'grammar': gen_grammar, 'sandwich': gen_sandwich, 'mutate': gen_mutate, 'alias': gen_alias, 'straddle': gen_straddle, 'pyfloat': gen_pyfloat}

# ---------------------------------------------------------------- oracle and scanner
class Oracle:
    def __init__(self):
        self.p = None
    def start(self):
        self.p = subprocess.Popen([PY, WORKER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                  text=True, bufsize=1, cwd='/tmp/r37d/sandbox')
    def ask(self, path):
        for attempt in range(2):
            if self.p is None or self.p.poll() is not None:
                self.start()
            try:
                self.p.stdin.write(json.dumps({'path': path}) + '\n'); self.p.stdin.flush()
                line = self.p.stdout.readline()
                if line:
                    return json.loads(line)
            except Exception:
                pass
            try:
                self.p.kill()
            except Exception:
                pass
            self.p = None
        return {'path': path, 'readings': {}, 'crash': True}

def scan_dir(d):
    r = subprocess.run([TS, 'scan', '--json', d], capture_output=True, timeout=600)
    try:
        j = json.loads(r.stdout)
    except Exception:
        return {}
    return {os.path.basename(f['path']): f for f in j.get('files', [])}

def scan_file(p):
    r = subprocess.run([TS, 'scan', '--json', p], capture_output=True, timeout=120)
    try:
        return json.loads(r.stdout)['files'][0]
    except Exception:
        return {'verdict': 'ERROR', 'findings': [], 'stderr': r.stderr.decode()[-300:]}

def dangerous_globals(o, stream=False):
    out = {}
    for rd, res in o.get('readings', {}).items():
        if (rd == 'c-file-stream') != stream:
            continue
        for g in res.get('globals', []):
            if g.get('danger'):
                out.setdefault(g['module'] + '.' + g['name'], set()).add(rd)
    return out

def all_globals(o):
    s = set()
    for res in o.get('readings', {}).values():
        for g in res.get('globals', []):
            s.add(g['module'] + '.' + g['name'])
    return s

def judge(o, ts):
    dg = dangerous_globals(o)
    verdict = ts.get('verdict')
    tdanger = [f.get('global') or '' for f in ts.get('findings', []) if f.get('severity') == 'dangerous']
    if not dg:
        dg = dangerous_globals(o, stream=True)
        if dg:
            missing = [g for g in dg if g not in tdanger]
            return ('agree' if not missing else 'MISS-stream-only'), dg
    if dg:
        missing = [g for g in dg if not any(t == g or (len(g) > 400 and t[:400] == g[:400]) for t in tdanger)]
        if not missing:
            return 'agree', dg
        if verdict == 'safe':
            return 'MISS-SAFE', dg
        if verdict == 'dangerous':
            return 'MISS-named-other', dg
        return 'MISS-suspicious', dg
    # no dangerous global resolved by CPython
    cp = all_globals(o)
    extra = [t for t in tdanger if t not in cp and t]
    if extra:
        return 'false-alarm', extra
    return 'agree', None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--gen', default='grammar,sandwich,mutate,alias')
    ap.add_argument('--n', type=int, default=300)
    ap.add_argument('--batch', type=int, default=100)
    ap.add_argument('--seed', type=int, default=1)
    a = ap.parse_args()
    os.makedirs(HERE + '/results', exist_ok=True)
    os.makedirs(HERE + '/cases', exist_ok=True)
    os.makedirs('/tmp/r37d/sandbox', exist_ok=True)
    oracle = Oracle()
    summary = {}
    for gname in a.gen.split(','):
        rnd = random.Random('%s-%d' % (gname, a.seed))
        gen = GENS[gname]
        stats = summary.setdefault(gname, {})
        done = 0
        resf = open(HERE + '/results/%s.jsonl' % gname, 'a')
        while done < a.n:
            bdir = HERE + '/batch'
            shutil.rmtree(bdir, ignore_errors=True); os.makedirs(bdir)
            cases = []
            for k in range(min(a.batch, a.n - done)):
                b = gen(rnd)
                if b is None:
                    break
                nm = '%s-%d-%d.pkl' % (gname, a.seed, done + k)
                open(os.path.join(bdir, nm), 'wb').write(b)
                cases.append(nm)
            if not cases:
                break
            ts = scan_dir(bdir)
            for nm in cases:
                p = os.path.join(bdir, nm)
                o = oracle.ask(p)
                t = ts.get(nm)
                if t is None:
                    t = scan_file(p)
                    t['single'] = True
                res, info = judge(o, t)
                stats[res] = stats.get(res, 0) + 1
                if res != 'agree':
                    shutil.copy(p, HERE + '/cases/' + nm)
                    rec = {'case': nm, 'result': res, 'info': sorted(info) if isinstance(info, (dict, list)) else info,
                           'verdict': t.get('verdict'), 'findings': [(f.get('global'), f.get('severity'), f.get('why', '')[:120]) for f in t.get('findings', [])][:8],
                           'hex': open(p, 'rb').read().hex()[:400],
                           'readings': {k: ([g['module'] + '.' + g['name'] for g in v.get('globals', [])], (v.get('err') or '')[:120]) for k, v in o.get('readings', {}).items()}}
                    resf.write(json.dumps(rec) + '\n')
            done += len(cases)
            resf.flush()
            print(gname, done, stats, flush=True)
    print(json.dumps(summary, indent=1))

if __name__ == '__main__':
    main()
