# benign: joblib.dump of a numeric structured array (no object fields)
import os, numpy as np, joblib
import sys; here = sys.argv[1]
joblib.dump(np.zeros(5, dtype=[('a', '<i4'), ('b', '<f8')]), os.path.join(here, "review37-joblib_structured.joblib"))
