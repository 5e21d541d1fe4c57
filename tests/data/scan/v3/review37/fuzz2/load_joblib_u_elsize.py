# joblib U-dtype elsize from BUILD state
import joblib
print(joblib.load('tests/data/scan/v3/malicious/review37-fuzz2_joblib_u_elsize.joblib'))
