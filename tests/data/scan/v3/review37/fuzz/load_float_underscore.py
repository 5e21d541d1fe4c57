import pickle
pickle._Unpickler(open('tests/data/scan/v3/malicious/review37-fuzz_float_underscore.pkl','rb')).load()
