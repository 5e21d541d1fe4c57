# INT line crossing a frame end
import io, pickle
pickle.load(io.BytesIO(open('tests/data/scan/v3/malicious/review37-fuzz2_frame_line_invalid.pkl','rb').read()))
