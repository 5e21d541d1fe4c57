import io, pickle
pickle.load(io.BytesIO(open('tests/data/scan/v3/malicious/review37-fuzz_frame_line_bytesio.pkl','rb').read()))
