# joblib inner pickle frame past STOP
import joblib
print(joblib.load('tests/data/scan/v3/malicious/review37-fuzz2_joblib_inner_frame.joblib'))
