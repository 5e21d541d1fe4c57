# pandas.read_pickle("x.zip"): the only member of a zip, unpickled with pickle.load; holds the
# NumpyArrayWrapper trick of gen.py (zip entries get no plain reading in container.rs entries()).
import os, sys, zipfile
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen import wrapper_pickle
here = os.path.dirname(os.path.abspath(__file__))
with zipfile.ZipFile(os.path.join(here, "jw_pandas.zip"), "w") as z:
    z.writestr("frame.pkl", wrapper_pickle("/tmp/review39/pwned_jw_pandas"))
