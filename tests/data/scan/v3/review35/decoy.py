import torch, io, zipfile, struct
def decoy_pickle(key, n):
    b=io.BytesIO(); torch.save(torch.zeros(n,dtype=torch.uint8), b); b.seek(0)
    z=zipfile.ZipFile(b); name=[x for x in z.namelist() if x.endswith('/data.pkl')][0]
    p=z.read(name)
    old=b'X\x01\x00\x00\x000'
    assert p.count(old)==1, p
    return p.replace(old, b'X'+struct.pack('<I',len(key))+key.encode())
