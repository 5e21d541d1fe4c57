import lzma, pickle, sys
for path in sys.argv[1:]:
    with lzma.open(path) as f:   # as joblib.load and pandas.read_pickle open .lzma/.xz
        while True:              # a reader that unpickles until the stream ends
            try:
                pickle.load(f)
            except EOFError:
                break
