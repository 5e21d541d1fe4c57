#!/tmp/peers/bin/python
"""Round-2 generators (opcode forms, text encodings, memo/frame, after-STOP, deep MARKs, containers).

usage: gen2.py --gen NAME[,NAME] --n CASES [--batch N] [--seed S]
Each generator returns (bytes, ext, readings); oracle2.py runs the readings (plain unpicklers and
real loaders with a recording find_class: torch, npload, joblib, pandas).
Results: /tmp/r37f/results/<gen>.jsonl; disagreements copied to /tmp/r37f/cases/.
"""
import argparse, bz2, gzip, io, json, lzma, os, pickle, random, shutil, struct, subprocess, sys, zipfile
sys.path.insert(0, '/tmp/r37f')
import fuzz as F

HERE = '/tmp/r37f'
F.WORKER = HERE + '/oracle2.py'
CMD = F.CMD
PLAIN = ['c-bytesio', 'c-file', 'c-loads', 'py']
STREAMS = ['c-file-stream', 'c-bytesio-stream', 'py-stream']
sbu, bu, bu8, sbs, bs = F.sbu, F.bu, F.bu8, F.sbs, F.bs

DANGER = [('posix', 'system'), ('os', 'system'), ('subprocess', 'getoutput'), ('builtins', 'exec'), ('__builtin__', 'eval'),
          ('os', 'popen'), ('commands', 'getoutput'), ('subprocess', 'check_output')]

def argtext(t):
    return "__import__('os').system('%s')" % CMD if t[1] in ('exec', 'eval') else CMD

def strop(s, rnd, proto):
    return F.text_str(s, rnd, proto)

# ------------------------------------------------------------------ objops: every way to call
def callable_bytes(rnd, t, proto, memo):
    m, n = t
    way = rnd.choice(['GLOBAL', 'SG', 'SG', 'EXT', 'MEMO']) if proto >= 4 else rnd.choice(['GLOBAL', 'GLOBAL', 'EXT', 'MEMO'])
    if way == 'EXT':
        code = rnd.choice([1, 255, 256, 65535, 65536, 0x7fffffff, -1])
        if 0 < code < 256: return b'\x82' + bytes([code])
        if 0 < code < 65536: return b'\x83' + struct.pack('<H', code)
        return b'\x84' + struct.pack('<i', code)
    if way == 'SG':
        return strop(m, rnd, proto) + strop(n, rnd, proto) + b'\x93'
    g = b'c' + m.encode() + b'\n' + n.encode() + b'\n'
    if way == 'MEMO':
        p, i = F.put(rnd, memo, proto)
        return g + p + b'0' + F.get(rnd, i)
    return g

def gen_objops(rnd):
    proto = rnd.choice([0, 1, 2, 3, 4, 5])
    t = rnd.choice(DANGER)
    memo = F.Memo()
    a = argtext(t)
    cb = callable_bytes(rnd, t, proto, memo)
    ab = strop(a, rnd, proto)
    form = rnd.choice(['REDUCE', 'OBJ', 'NEWOBJ', 'NEWOBJ_EX', 'INST', 'BUILD_setstate', 'PERSID', 'BINPERSID',
                       'BUFFER', 'BUILD_reduce_in_state', 'OBJ_nested', 'DICT_state', 'SETITEMS_call'])
    if form == 'REDUCE':
        body = cb + b'(' + ab + b'tR'
    elif form == 'OBJ':
        body = b'(' + cb + ab + b'o'
    elif form == 'OBJ_nested':
        body = b'((' + cb + ab + b'o' + b'o'  # outer OBJ of the result
    elif form == 'NEWOBJ':
        body = cb + b'(' + ab + b't\x81'
    elif form == 'NEWOBJ_EX':
        body = cb + b'(' + ab + b't}\x92'
    elif form == 'INST':
        body = b'(' + ab + b'i' + t[0].encode() + b'\n' + t[1].encode() + b'\n'
    elif form == 'BUILD_setstate':
        # an object whose state holds the call; BUILD sets it
        body = b'ccollections\nOrderedDict\n)R' + b'}' + b'(' + strop('k', rnd, proto) + cb + b'(' + ab + b'tR' + b'ub'
    elif form == 'BUILD_reduce_in_state':
        body = b'ccollections\nOrderedDict\n)R' + b'(' + cb + b'(' + ab + b'tRN' + b't' + b'b'
    elif form == 'PERSID':
        body = b'P' + rnd.choice([b'0', b'x', b'storage']) + b'\n0' + cb + b'(' + ab + b'tR'
    elif form == 'BINPERSID':
        body = b'(' + cb + b'(' + ab + b'tR' + b't' + b'Q'
    elif form == 'BUFFER':
        body = cb + b'(' + ab + b'tR' + rnd.choice([b'\x97', b'\x98', b'N\x98', b'\x97\x98'])
    elif form == 'DICT_state':
        body = b'}(' + strop('a', rnd, proto) + cb + b'(' + ab + b'tR' + b'u'
    else:
        body = b']' + b'(' + cb + b'(' + ab + b'tRe'
    out = (b'\x80' + bytes([proto]) if proto >= 2 else b'') + body + b'.'
    if proto >= 4 and rnd.random() < 0.5:
        core = out[2:]
        out = b'\x80' + bytes([proto]) + b'\x95' + struct.pack('<Q', len(core)) + core
    return out, '.pkl', PLAIN

# ------------------------------------------------------------------ textenc: escapes and odd name lines
ESC = ['\\x%02x', '\\%o', '\\%03o', '\\%02o']
SIMPLE_ESC = ['\\\\', "\\'", '\\"', '\\a', '\\b', '\\f', '\\n', '\\r', '\\t', '\\v', '\\0', '\\\n']
def S_escaped(s, rnd):
    q = rnd.choice(["'", '"'])
    out = ''
    for ch in s:
        r = rnd.random()
        if r < 0.3: out += rnd.choice(ESC) % ord(ch)
        else: out += ch
        if rnd.random() < 0.08:
            # a noise escape that decodes to something; inserting it breaks the name unless it decodes to nothing
            out += rnd.choice(['\\q', '\\8', '\\9', '\\N', '\\u0041', '\\x4', '\\400', '\\777', '\\\r', '\\ '])
    pre = rnd.choice(['', '', ' ', '\t', 'b', 'u', 'r', 'B'])
    post = rnd.choice(['', '', '', ' ', '\r', '\t', '\x00'])
    return b'S' + (pre + q + out + q + post).encode('latin-1') + b'\n'

def V_escaped(s, rnd):
    out = ''
    for ch in s:
        r = rnd.random()
        if r < 0.2: out += '\\u%04x' % ord(ch)
        elif r < 0.3: out += '\\U%08x' % ord(ch)
        elif r < 0.35: out += '\\\\u%04x' % ord(ch)   # escaped backslash: two chars?
        elif r < 0.4: out += '\\\\\\u%04x' % ord(ch)
        elif r < 0.45: out += '\\x%02x' % ord(ch)  # not an escape in raw-unicode-escape
        else: out += ch
    post = rnd.choice(['', '', '\r', ' ', '\x00'])
    return b'V' + out.encode('latin-1') + post.encode('latin-1') + b'\n'

def UNI_odd(s, rnd):
    b = s.encode()
    extra = rnd.choice([b'', b'', b'\xed\xa0\x80', b'\xed\xb0\x80', b'\xed\xa0\xbd\xed\xb8\x80', b'\xc0\x80', b'\x00'])
    if rnd.random() < 0.5: b = b + extra
    else: b = extra + b
    return rnd.choice([b'\x8c' + bytes([len(b)]), b'X' + struct.pack('<I', len(b)), b'\x8d' + struct.pack('<Q', len(b))]) + b

def gen_textenc(rnd):
    t = rnd.choice(DANGER)
    proto = rnd.choice([0, 2, 4])
    a = argtext(t)
    k = rnd.choice(['SG_S', 'SG_V', 'SG_U', 'GLOBAL', 'GLOBAL', 'INST'])
    if k in ('SG_S', 'SG_V', 'SG_U'):
        proto = 4
        f = {'SG_S': S_escaped, 'SG_V': V_escaped, 'SG_U': UNI_odd}[k]
        ms = f(t[0], rnd) if rnd.random() < 0.7 else sbu(t[0])
        ns = f(t[1], rnd) if rnd.random() < 0.7 else sbu(t[1])
        cb = ms + ns + b'\x93'
        body = cb + sbu(a) + b'\x85R'
    else:
        def odd(x):
            x = x.encode()
            r = rnd.random()
            if r < 0.15: return x + b'\r'
            if r < 0.3: return x + b' '
            if r < 0.4: return b' ' + x
            if r < 0.5: return x + b'\x00'
            if r < 0.55: return x + b'\x00junk'
            if r < 0.6: return x + '\u00e9'.encode()
            if r < 0.65: return x + b'\xff'
            if r < 0.7: return x.upper()
            if r < 0.75: return x + b'\t'
            if r < 0.8: return x + b'\x0c'
            return x
        m, n = odd(t[0]), odd(t[1])
        if k == 'GLOBAL':
            body = b'c' + m + b'\n' + n + b'\n' + b'(' + F.S_str(a, rnd) + b'tR'
        else:
            body = b'(' + F.S_str(a, rnd) + b'i' + m + b'\n' + n + b'\n'
    out = (b'\x80' + bytes([proto]) if proto >= 2 else b'') + body + b'.'
    return out, '.pkl', PLAIN

# ------------------------------------------------------------------ memo/frame interleavings
def gen_memoframe(rnd):
    t = rnd.choice(DANGER)
    proto = rnd.choice([4, 5])
    a = argtext(t)
    # build: strings memoized, a noise region, frames cut at random points, GET back, STACK_GLOBAL
    pieces = []
    memo_n = 0
    slots = {}
    def memoize(key):
        nonlocal memo_n
        f = rnd.choice(['M', 'q', 'r', 'p'])
        if f == 'M':
            slots[key] = memo_n; memo_n += 1; return b'\x94'
        idx = rnd.choice([memo_n, memo_n + 3, 0, 255, 256])
        slots[key] = idx
        memo_n = max(memo_n, idx + 1) if f != 'M' else memo_n
        # MEMOIZE uses len(memo), not max index+1
        if f == 'q' and idx < 256: return b'q' + bytes([idx])
        if f == 'p': return b'p' + str(idx).encode() + b'\n'
        return b'r' + struct.pack('<I', idx)
    mod = sbu(t[0]) + memoize('m') + b'0'
    name = sbu(t[1]) + memoize('n') + b'0'
    noise = [sbu('collections'), b'\x94', b'0', b'N', b'\x94', b'0', sbu('x') + b'\x94' + b'0']
    seq = [mod] + rnd.sample(noise, rnd.randrange(0, len(noise))) + [name]
    if rnd.random() < 0.5:
        seq.reverse()
    def g(key):
        i = slots[key]
        return rnd.choice([b'h' + bytes([i]) if i < 256 else b'j' + struct.pack('<I', i), b'j' + struct.pack('<I', i), b'g' + str(i).encode() + b'\n'])
    core = b''.join(seq) + g('m') + g('n') + b'\x93' + sbu(a) + b'\x85R.'
    # split into frames at random points (often mid-argument)
    cuts = sorted(rnd.sample(range(1, len(core)), min(len(core) - 1, rnd.randrange(0, 4))))
    out = b'\x80' + bytes([proto])
    prev = 0
    for c in cuts + [len(core)]:
        seg = core[prev:c]
        if rnd.random() < 0.8:
            out += b'\x95' + struct.pack('<Q', len(seg)) + seg
        else:
            out += seg
        prev = c
    return out, '.pkl', PLAIN

# ------------------------------------------------------------------ after STOP and deep MARKs
def gen_afterstop(rnd):
    first = pickle.dumps(rnd.choice([None, 1, {'a': 1}, 'x' * rnd.randrange(0, 9000)]), protocol=rnd.randrange(0, 6))
    # a frame running past STOP (CPython resumes at frame end), or junk between pickles
    t = rnd.choice(DANGER)
    pay = F.p0_payload(rnd) if rnd.random() < 0.5 else pickle.dumps(None, protocol=rnd.choice([2, 4, 5]))[:-1].replace(b'N', b'') + F.p0_payload(rnd)[:-1] + b'.'
    style = rnd.choice(['plain', 'framepast', 'framepast', 'junk', 'proto01', 'twobenign'])
    if style == 'plain':
        out = first + pay
    elif style == 'framepast':
        extra = rnd.choice([b'', b'N', b'0', b'\x8c', b'B', b'(', b'X\x05\x00\x00\x00'])
        pad = rnd.choice([0, 1, 5, 9000])
        hide = b'B' + struct.pack('<I', pad + len(pay) - 1) + b'\x00' * pad if rnd.random() < 0.5 else extra + b'\x00' * pad
        body = b'N.' + hide
        out = b'\x80\x04\x95' + struct.pack('<Q', len(body)) + body + pay
    elif style == 'junk':
        out = first + rnd.choice([b'\n', b' ', b'\x00', b'N', b'0']) + pay
    elif style == 'proto01':
        out = first + b'N.' + pay
    else:
        out = first + first + pay
    return out, '.pkl', PLAIN + STREAMS

def gen_deepmark(rnd):
    n = rnd.choice([1000, 100000, (1 << 20) - 3, (1 << 20) + 5, 1 << 21])
    t = rnd.choice(DANGER)
    op = rnd.choice([b'(', b'N', b'(N'])
    pre = op * (n // len(op))
    out = b'\x80\x02' + pre + b'c' + t[0].encode() + b'\n' + t[1].encode() + b'\n(' + sbu(argtext(t)) + b'tR.' if False else \
        b'\x80\x04' + pre + b'c' + t[0].encode() + b'\n' + t[1].encode() + b'\n(' + sbu(argtext(t)) + b'tR.'
    return out, '.pkl', ['c-bytesio', 'py']

# ------------------------------------------------------------------ containers
def payload(rnd):
    r = rnd.random()
    if r < 0.4:
        return F.gen_grammar(rnd)
    if r < 0.6:
        return gen_objops(rnd)[0]
    if r < 0.7:
        return gen_memoframe(rnd)[0]
    if r < 0.8:
        return F.gen_straddle(rnd)
    return F.p0_payload(rnd)

_TORCH = None
def torch_template():
    global _TORCH
    if _TORCH is None:
        import torch
        b = io.BytesIO(); torch.save({'w': 1}, b)
        z = zipfile.ZipFile(io.BytesIO(b.getvalue()))
        _TORCH = [(i.filename, z.read(i.filename)) for i in z.infolist()]
    return _TORCH

def gen_ctorch(rnd):
    pay = payload(rnd)
    recs = list(torch_template())
    style = rnd.choice(['replace', 'replace', 'rename', 'dup', 'extra', 'deflate', 'prefix', 'order'])
    out = io.BytesIO()
    comp = zipfile.ZIP_DEFLATED if style == 'deflate' else zipfile.ZIP_STORED
    with zipfile.ZipFile(out, 'w', comp) as z:
        root = recs[0][0].split('/')[0]
        newroot = {'rename': rnd.choice(['x', 'archive', 'a.b', 'data', '']), }.get(style, root)
        items = []
        for nm, d in recs:
            sub = nm.split('/', 1)[1]
            if sub == 'data.pkl':
                d = pay
            items.append(((newroot + '/' + sub) if newroot else sub, d))
        if style == 'dup':
            items.insert(rnd.randrange(len(items) + 1), (root + '/data.pkl', pickle.dumps({'ok': 1}, protocol=2)))
        if style == 'extra':
            items.append((root + '/' + rnd.choice(['extra.pkl', 'data/data.pkl', 'constants.pkl', 'x/data.pkl']), pay))
            items = [(n, pickle.dumps({'ok': 1}, protocol=2) if n.endswith('/data.pkl') and n.count('/') == 1 else d) for n, d in items]
        if style == 'order':
            rnd.shuffle(items)
        for nm, d in items:
            z.writestr(nm, d)
    data = out.getvalue()
    if style == 'prefix':
        data = rnd.choice([b'', b'\x00' * 64, pickle.dumps(1)]) + data
    return data, '.pt', ['torch']

def gen_ctorch_legacy(rnd):
    import torch
    b = io.BytesIO(); torch.save({'w': 1}, b, _use_new_zipfile_serialization=False)
    d = b.getvalue()
    # legacy: magic pickle, protocol pickle, sys_info pickle, main pickle, keys pickle, storages
    pay = payload(rnd)
    ends = []
    pos = 0
    for _ in range(5):
        ops = list(__import__('pickletools').genops(d[pos:]))
        end = pos + ops[-1][2] + 1
        ends.append((pos, end)); pos = end
    k = rnd.randrange(5)
    s, e = ends[k]
    mode = rnd.choice(['replace', 'insert_after'])
    if mode == 'replace':
        out = d[:s] + pay + d[e:]
    else:
        out = d[:e] + pay + d[e:]
    return out, '.pt', ['torch']

def npy_header(descr, rnd):
    shape = rnd.choice(['(1,)', '(0,)', '()', '(2,)'])
    h = "{'descr': %s, 'fortran_order': False, 'shape': %s, }" % (descr, shape)
    ver = rnd.choice([1, 1, 2, 3])
    hb = h.encode('latin-1' if ver < 3 else 'utf-8')
    pre = b'\x93NUMPY' + bytes([ver, 0])
    lensz = 2 if ver == 1 else 4
    total = len(pre) + lensz + len(hb) + 1
    pad = (-total) % 64
    hb = hb + b' ' * pad + b'\n'
    return pre + (struct.pack('<H', len(hb)) if lensz == 2 else struct.pack('<I', len(hb))) + hb

def gen_cnpy(rnd):
    descr = rnd.choice(["'|O'", "'O'", "'<O'", "'|O8'", "[('a', '|O')]", "[('a', '<i4'), ('b', '|O')]", "[('a', [('b', 'O')])]",
                        "[('a', '|O', (2,))]", "('|V8', [('x', '|O')])" , "'|V8'", "'<f8'", "[('', '|O')]", "[('a', '<f8')]"])
    pay = payload(rnd)
    kind = rnd.choice(['npy', 'npy', 'npy', 'raw', 'npz'])
    if kind == 'raw':
        return pay, '.npy', ['npload']
    data = npy_header(descr, rnd) + pay
    if kind == 'npz':
        out = io.BytesIO()
        with zipfile.ZipFile(out, 'w') as z:
            z.writestr('arr_0.npy', data)
        return out.getvalue(), '.npz', ['npload']
    return data, '.npy', ['npload']

_JOB = None
def inner_end(d, i):
    import pickletools
    try:
        for op, arg, pos in pickletools.genops(d[i:]):
            if op.name == 'STOP':
                return i + pos + 1
    except Exception:
        return None
def gen_cjoblib(rnd):
    import joblib, numpy as np
    objs = [np.arange(rnd.randrange(0, 5)), np.array(['m', 1], dtype=object), 'MARKER', np.zeros((2, 2), dtype='<f4')]
    rnd.shuffle(objs)
    b = io.BytesIO(); joblib.dump(objs, b); d = b.getvalue()
    pay = payload(rnd)
    style = rnd.choice(['inner_frame_past', 'inner_frame_past', 'replace_marker', 'append', 'inner_replace'])
    if style in ('inner_frame_past', 'inner_replace'):
        i = d.find(b'ub\x80\x05') + 2
        j = inner_end(d, i)
        if i < 2 or j is None:
            return d + pay, '.joblib', ['joblib', 'pandas']
        inner = d[i:j]; body = inner[11:]
        if style == 'inner_replace':
            return d[:i] + pay + d[j:], '.joblib', ['joblib']
        core = F.p0_payload(rnd)[:-1] + b'0'
        X = rnd.choice([b'B' + struct.pack('<I', len(core)), b'', b'N', b'\x8c' + bytes([min(len(core), 255)])])
        body = body + X + b'\x00' * rnd.choice([0, 0, 3, 9000])
        return d[:i] + b'\x80\x05\x95' + struct.pack('<Q', len(body)) + body + core + d[j:], '.joblib', ['joblib']
    if style == 'replace_marker':
        k = d.find(b'\x8c\x06MARKER')
        m = F.p0_payload(rnd)[:-1]
        # protocol-0 payload replacing the string inside the frame: fix the frame length of the first frame
        nd = d[:k] + m + d[k + 8:]
        if nd[2] == 0x95:
            fl = struct.unpack('<Q', nd[3:11])[0] + len(m) - 8
            nd = nd[:3] + struct.pack('<Q', fl) + nd[11:]
        return nd, '.joblib', ['joblib']
    return d + pay, '.joblib', ['joblib', 'pandas']

def compress(data, kind):
    if kind == 'gz': return gzip.compress(data)
    if kind == 'bz2': return bz2.compress(data)
    if kind == 'xz': return lzma.compress(data)
    if kind == 'zst':
        import zstandard
        return zstandard.ZstdCompressor().compress(data)
    if kind == 'z':  # joblib zlib
        import zlib
        return zlib.compress(data)
    return data

def gen_ccomp(rnd):
    pay = payload(rnd)
    kind = rnd.choice(['gz', 'bz2', 'xz', 'zst', 'gz', 'xz'])
    try:
        data = compress(pay, kind)
    except Exception:
        kind = 'gz'; data = compress(pay, kind)
    if rnd.random() < 0.2:
        data = data + rnd.choice([b'\x00' * 8, compress(b'N.', kind), b'junk'])
    if rnd.random() < 0.2:
        # concatenated members: gzip/bz2/xz readers read on into the second member
        data = compress(pay[:len(pay) // 2], kind) + compress(pay[len(pay) // 2:], kind)
    return data, '.pkl.' + kind, ['pandas', 'joblib']

GENS = {'objops': gen_objops, 'textenc': gen_textenc, 'memoframe': gen_memoframe, 'afterstop': gen_afterstop,
        'deepmark': gen_deepmark, 'ctorch': gen_ctorch, 'ctorchlegacy': gen_ctorch_legacy, 'cnpy': gen_cnpy,
        'cjoblib': gen_cjoblib, 'ccomp': gen_ccomp}

# ------------------------------------------------------------------ judge and driver
def judge(o, ts):
    dg = {}; sdg = {}
    for rd, res in o.get('readings', {}).items():
        tgt = sdg if rd.endswith('-stream') else dg
        for g in res.get('globals', []):
            if g.get('danger'):
                tgt.setdefault(g['module'] + '.' + g['name'], set()).add(rd)
    tdanger = [f.get('global') or '' for f in ts.get('findings', []) if f.get('severity') == 'dangerous']
    verdict = ts.get('verdict')
    if dg:
        missing = [g for g in dg if g not in tdanger]
        if not missing: return 'agree', dg
        if verdict == 'safe': return 'MISS-SAFE', dg
        if verdict == 'dangerous': return 'MISS-named-other', dg
        return 'MISS-suspicious', dg
    if sdg:
        missing = [g for g in sdg if g not in tdanger]
        if not missing: return 'agree', sdg
        return ('MISS-stream-SAFE' if verdict == 'safe' else 'MISS-stream-' + str(verdict)), sdg
    cp = set(g['module'] + '.' + g['name'] for res in o.get('readings', {}).values() for g in res.get('globals', []))
    extra = [t for t in tdanger if t and t not in cp]
    if extra: return 'false-alarm', extra
    return 'agree', None

class Oracle(F.Oracle):
    def start(self):
        self.p = subprocess.Popen([F.PY, F.WORKER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                  text=True, bufsize=1, cwd=HERE + '/sandbox')
    def ask(self, path, readings):
        for attempt in range(2):
            if self.p is None or self.p.poll() is not None:
                self.start()
            try:
                self.p.stdin.write(json.dumps({'path': path, 'readings': readings}) + '\n'); self.p.stdin.flush()
                line = self.p.stdout.readline()
                if line: return json.loads(line)
            except Exception:
                pass
            try: self.p.kill()
            except Exception: pass
            self.p = None
        return {'path': path, 'readings': {}, 'crash': True}

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--gen', required=True); ap.add_argument('--n', type=int, default=200)
    ap.add_argument('--batch', type=int, default=100); ap.add_argument('--seed', type=int, default=11)
    a = ap.parse_args()
    os.makedirs(HERE + '/cases', exist_ok=True); os.makedirs(HERE + '/sandbox', exist_ok=True)
    oracle = Oracle(); summary = {}
    for gname in a.gen.split(','):
        rnd = random.Random('%s-%d' % (gname, a.seed)); gen = GENS[gname]
        stats = summary.setdefault(gname, {}); done = 0
        resf = open(HERE + '/results2/%s.jsonl' % gname, 'a')
        while done < a.n:
            bdir = HERE + '/batch2'
            shutil.rmtree(bdir, ignore_errors=True); os.makedirs(bdir)
            cases = []
            for k in range(min(a.batch, a.n - done)):
                b, ext, rds = gen(rnd)
                nm = '%s-%d-%d%s' % (gname, a.seed, done + k, ext)
                open(os.path.join(bdir, nm), 'wb').write(b)
                cases.append((nm, rds))
            ts = F.scan_dir(bdir)
            for nm, rds in cases:
                p = os.path.join(bdir, nm)
                o = oracle.ask(p, rds)
                t = ts.get(nm)
                if t is None:
                    t = F.scan_file(p); t['single'] = True
                res, info = judge(o, t)
                stats[res] = stats.get(res, 0) + 1
                if res != 'agree':
                    shutil.copy(p, HERE + '/cases/' + nm)
                    rec = {'case': nm, 'result': res, 'info': sorted(info) if isinstance(info, (dict, list)) else info,
                           'verdict': t.get('verdict'), 'findings': [(f.get('global'), f.get('severity'), f.get('why', '')[:120]) for f in t.get('findings', [])][:8],
                           'hex': open(p, 'rb').read()[:300].hex(),
                           'readings': {k: ([g['module'] + '.' + g['name'] for g in v.get('globals', [])], (v.get('err') or '')[:120]) for k, v in o.get('readings', {}).items()}}
                    resf.write(json.dumps(rec) + '\n')
            done += len(cases); resf.flush()
            print(gname, done, stats, flush=True)
    print(json.dumps(summary, indent=1))

if __name__ == '__main__':
    main()
