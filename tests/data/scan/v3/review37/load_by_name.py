import sys, pandas
for path in sys.argv[1:]:
    try:
        pandas.read_pickle(path)
    except Exception as e:  # the payload has run by then; os.system returns an int
        print(path, type(e).__name__, e)
