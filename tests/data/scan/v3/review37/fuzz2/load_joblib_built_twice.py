# wrapper BUILT twice; attributes of state 1 persist
import joblib
print(joblib.load('tests/data/scan/v3/malicious/review37-fuzz2_joblib_built_twice.joblib'))
