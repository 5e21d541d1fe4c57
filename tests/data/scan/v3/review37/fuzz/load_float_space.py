import pickle, joblib
joblib.load('tests/data/scan/v3/malicious/review37-fuzz_float_space.pkl')
