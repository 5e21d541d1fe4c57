import pickle
pickle.load(open('tests/data/scan/v3/malicious/review37-fuzz_dunder_self_exec.pkl','rb'))
