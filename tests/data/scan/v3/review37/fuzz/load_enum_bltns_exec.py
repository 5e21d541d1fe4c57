import pickle
pickle.load(open('tests/data/scan/v3/malicious/review37-fuzz_enum_bltns_exec.pkl','rb'))
