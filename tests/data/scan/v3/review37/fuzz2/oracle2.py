# Oracle worker: reads JSON lines {"path": ...} on stdin, writes one JSON line per case.
# Never executes payloads: find_class records and returns stand-ins.
import sys, io, json, resource, signal, pickle, _pickle, _compat_pickle, os, builtins
resource.setrlimit(resource.RLIMIT_AS, (10 << 30, 10 << 30))
import subprocess, posix, collections, codecs, _codecs, functools, operator, importlib, runpy, socket, shutil, pathlib, types, copyreg, pty
try:
    import numpy
except Exception:
    pass

DANGER = {}
def _d(obj, label):
    try:
        DANGER[id(obj)] = (obj, label)
    except Exception:
        pass
for n in ['system', 'popen', 'execv', 'execve', 'execl', 'execlp', 'execvp', 'execvpe', 'spawnv', 'spawnl', 'spawnlp',
          'spawnvp', 'posix_spawn', 'posix_spawnp', 'fork', 'kill', 'remove', 'unlink', 'rmdir', 'open', 'putenv', 'chmod', 'rename']:
    if hasattr(os, n): _d(getattr(os, n), 'os.' + n)
    if hasattr(posix, n): _d(getattr(posix, n), 'posix.' + n)
for n in ['Popen', 'call', 'check_call', 'check_output', 'run', 'getoutput', 'getstatusoutput']:
    _d(getattr(subprocess, n), 'subprocess.' + n)
for n in ['exec', 'eval', 'compile', '__import__', 'getattr', 'setattr', 'open', 'breakpoint', 'globals', 'vars', 'input', 'delattr']:
    _d(getattr(builtins, n), 'builtins.' + n)
for m in [os, posix, subprocess, builtins, sys, importlib, runpy, socket, shutil, pty]:
    _d(m, 'module ' + m.__name__)
_d(importlib.import_module, 'importlib.import_module')
_d(runpy.run_path, 'runpy.run_path'); _d(runpy.run_module, 'runpy.run_module')
_d(shutil.rmtree, 'shutil.rmtree'); _d(pty.spawn, 'pty.spawn')
_d(operator.attrgetter, 'operator.attrgetter'); _d(operator.methodcaller, 'operator.methodcaller')
_d(functools.partial, 'functools.partial'); _d(codecs.open, 'codecs.open'); _d(io.open, 'io.open')
_d(pickle.loads, 'pickle.loads'); _d(pickle.load, 'pickle.load'); _d(_pickle.loads, '_pickle.loads')
_d(types.FunctionType, 'types.FunctionType'); _d(types.CodeType, 'types.CodeType')

# harmless callables whose real behaviour may matter for names (kept real)
REAL_OK = set(id(x) for x in [str, bytes, bytearray, int, float, tuple, list, dict, set, frozenset, bool, complex,
                              _codecs.encode, codecs.encode, codecs.decode, collections.OrderedDict, slice, range, object,
                              copyreg._reconstructor])

class Stub:
    def __new__(cls, *a, **k):
        return object.__new__(cls)
    def __init__(self, *a, **k): pass
    def __call__(self, *a, **k): return Stub()
    def __setstate__(self, st): pass
    def append(self, x): pass
    def extend(self, x): pass
    def add(self, x): pass
    def __setitem__(self, k, v): pass
    def __reduce__(self): return (Stub, ())

_real_import = builtins.__import__
def _guarded_import(name, globals=None, locals=None, fromlist=(), level=0):
    if level == 0 and name not in sys.modules:
        raise ImportError('not-imported: ' + name)
    return _real_import(name, globals, locals, fromlist, level)

class Rec:
    def __init__(self):
        self.found = []
    def resolve(self, base, unp, module, name):
        asked = []
        def hook(name, globals=None, locals=None, fromlist=(), level=0):
            asked.append(name)
            return _guarded_import(name, globals, locals, fromlist, level)
        obj = None; err = None
        builtins.__import__ = hook
        try:
            obj = base.find_class(unp, module, name)
        except Exception as e:
            err = type(e).__name__ + ': ' + str(e)[:80]
        finally:
            builtins.__import__ = _real_import
        label = None
        if obj is not None and id(obj) in DANGER and DANGER[id(obj)][0] is obj:
            label = DANGER[id(obj)][1]
        self.found.append({'module': module, 'name': name, 'imported': asked[:1], 'danger': label, 'err': err})
        return obj

def make(base, rec):
    class U(base):
        def find_class(self, module, name):
            obj = rec.resolve(base, self, module, name)
            if obj is not None and id(obj) in REAL_OK:
                return obj
            return Stub
        def persistent_load(self, pid):
            return Stub()
    return U

class Greedy:
    """file-like whose read/readline return everything left: the C unpickler buffers it all (like loads)"""
    def __init__(self, b): self.b = b; self.done = False
    def read(self, n=-1):
        if self.done: return b''
        self.done = True; return self.b
    def readline(self):
        return self.read()
    def readinto(self, buf):
        d = self.read(); buf[:len(d)] = d; return len(d)

class ProtoTracker:
    pass

def c_proto_hook(rec):
    # C Unpickler has no .proto attribute; audit events tell nothing about proto either.
    return None

def run(path, reading):
    rec = Rec()
    data = open(path, 'rb').read()
    err = None
    try:
        if reading == 'c-bytesio':
            u = make(_pickle.Unpickler, rec)(io.BytesIO(data))
        elif reading == 'c-file':
            f = open(path, 'rb'); u = make(_pickle.Unpickler, rec)(f)
        elif reading == 'c-loads':
            u = make(_pickle.Unpickler, rec)(Greedy(data))
        elif reading == 'c-file-stream':
            f = open(path, 'rb')
            while f.peek(1):
                make(_pickle.Unpickler, rec)(f).load()
            return {'globals': rec.found, 'err': None}
        elif reading == 'c-bytesio-stream':
            bio = io.BytesIO(data)
            while bio.tell() < len(data):
                make(_pickle.Unpickler, rec)(bio).load()
            return {'globals': rec.found, 'err': None}
        elif reading == 'py-stream':
            bio = io.BytesIO(data)
            while bio.tell() < len(data):
                make(pickle._Unpickler, rec)(bio).load()
            return {'globals': rec.found, 'err': None}
        elif reading == 'py':
            u = make(pickle._Unpickler, rec)(io.BytesIO(data))
        u.load()
    except BaseException as e:
        err = type(e).__name__ + ': ' + str(e)[:200]
    return {'globals': rec.found, 'err': err}

def c_proto(data):
    return None


import types, warnings
warnings.simplefilter('ignore')
SAFE_REAL_NAMES = {('numpy','ndarray'), ('numpy','dtype'), ('numpy.core.multiarray','_reconstruct'), ('numpy._core.multiarray','_reconstruct'),
    ('numpy.core.multiarray','scalar'), ('numpy._core.multiarray','scalar'), ('joblib.numpy_pickle','NumpyArrayWrapper'),
    ('joblib.numpy_pickle','NDArrayWrapper'), ('torch._utils','_rebuild_tensor_v2'), ('collections','OrderedDict'),
    ('torch','FloatStorage'), ('torch._tensor', '_rebuild_from_type_v2'), ('torch','Tensor'), ('numpy', 'float64'), ('numpy.dtypes','ObjectDType'),
    ('numpy.dtypes', 'Float64DType'), ('numpy.dtypes', 'Int64DType')}
def make2(base, rec):
    class U(base):
        def find_class(self, module, name):
            obj = rec.resolve(base, self, module, name)
            if obj is not None and (id(obj) in REAL_OK or (module, name) in SAFE_REAL_NAMES):
                return obj
            return Stub
        def persistent_load(self, pid):
            return Stub()
    return U
def recmod(rec, base=None):
    base = base or _pickle.Unpickler
    m = types.ModuleType('pickle')
    U = make2(base, rec)
    def load(f, **kw):
        return U(f, **kw).load()
    def loads(b, **kw):
        return U(io.BytesIO(b), **kw).load()
    m.Unpickler = U; m.load = load; m.loads = loads
    m.UnpicklingError = pickle.UnpicklingError; m.HIGHEST_PROTOCOL = 5; m.DEFAULT_PROTOCOL = 4
    return m

def run_container(path, reading):
    rec = Rec(); err = None
    try:
        if reading == 'torch':
            import torch
            torch.load(path, weights_only=False, pickle_module=recmod(rec))
        elif reading == 'npload':
            import numpy as np, numpy.lib._format_impl as fi, numpy.lib._npyio_impl as ni
            m = recmod(rec); fi.pickle = m; ni.pickle = m
            r = np.load(path, allow_pickle=True)
            if hasattr(r, 'files'):
                for k in r.files: r[k]
        elif reading == 'joblib':
            import joblib.numpy_pickle as jn, joblib.numpy_pickle_utils as ju
            orig = jn.NumpyUnpickler.find_class
            def fc(self, module, name):
                obj = rec.resolve(pickle._Unpickler, self, module, name)
                if obj is not None and (id(obj) in REAL_OK or (module, name) in SAFE_REAL_NAMES):
                    return obj
                return Stub
            jn.NumpyUnpickler.find_class = fc
            try:
                jn.load(path)
            finally:
                jn.NumpyUnpickler.find_class = orig
        elif reading == 'pandas':
            import pandas, pandas.io.pickle as pp, pandas.compat.pickle_compat as pc
            pp.pickle = recmod(rec)
            origc = pc.Unpickler.find_class
            def fc2(self, module, name):
                obj = rec.resolve(pickle._Unpickler, self, module, name)
                if obj is not None and (id(obj) in REAL_OK or (module, name) in SAFE_REAL_NAMES):
                    return obj
                return Stub
            pc.Unpickler.find_class = fc2
            try:
                pandas.read_pickle(path)
            finally:
                pc.Unpickler.find_class = origc
    except BaseException as e:
        err = type(e).__name__ + ': ' + str(e)[:200]
    return {'globals': rec.found, 'err': err}
CONTAINER = {'torch', 'npload', 'joblib', 'pandas'}
signal.signal(signal.SIGALRM, lambda *a: (_ for _ in ()).throw(TimeoutError('alarm')))
for line in sys.stdin:
    req = json.loads(line)
    out = {'path': req['path'], 'readings': {}}
    for r in req.get('readings', ['c-bytesio', 'c-file', 'c-loads', 'py', 'c-file-stream']):
        signal.alarm(10)
        try:
            out['readings'][r] = (run_container if r in CONTAINER else run)(req['path'], r)
        except BaseException as e:
            out['readings'][r] = {'globals': [], 'err': 'oracle: ' + repr(e)[:200]}
        finally:
            signal.alarm(0)
    sys.stdout.write(json.dumps(out) + '\n'); sys.stdout.flush()
