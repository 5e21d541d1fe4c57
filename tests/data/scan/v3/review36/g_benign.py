# Benign files written by real torch.save / pickle.dump / numpy, for the false-alarm check.
import torch, pickle, numpy as np, collections, io, os, sys
O = sys.argv[1]
def tsave(name, obj, **kw): torch.save(obj, os.path.join(O, name), **kw)
def pdump(name, obj, p): open(os.path.join(O, name), 'wb').write(pickle.dumps(obj, protocol=p))
tensors = {
 'f32': torch.randn(3, 4), 'bf16': torch.randn(2).bfloat16(), 'f16': torch.randn(2).half(),
 'i64': torch.arange(5), 'bool': torch.tensor([True, False]), 'c64': torch.randn(2, dtype=torch.complex64),
 'u16': torch.arange(4).to(torch.uint16), 'f8': torch.randn(4).to(torch.float8_e4m3fn),
 'view': torch.arange(10.)[2:7], 'T': torch.randn(3, 5).t(), 'empty': torch.empty(0),
 'scalar': torch.tensor(3.0), 'conj': torch.randn(2, dtype=torch.complex64).conj(),
}
tsave('tensors.pt', tensors)
tsave('tensors-legacy.pt', tensors, _use_new_zipfile_serialization=False)
tsave('param.pt', {'p': torch.nn.Parameter(torch.randn(2)), 'b': torch.nn.Buffer(torch.randn(2)) if hasattr(torch.nn, 'Buffer') else torch.randn(2)})
tsave('module-sd.pt', torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.LayerNorm(4)).state_dict())
tsave('sparse.pt', {'coo': torch.randn(3, 3).to_sparse(), 'csr': torch.randn(3, 3).to_sparse_csr()})
tsave('quant.pt', {'q': torch.quantize_per_tensor(torch.randn(4), 0.1, 0, torch.qint8),
                   'qc': torch.quantize_per_channel(torch.randn(2, 3), torch.tensor([0.1, 0.2]), torch.tensor([0, 0]), 0, torch.quint8)})
tsave('meta.pt', {'m': torch.empty(3, 4, device='meta')})
tsave('misc.pt', {'size': torch.Size([2, 3]), 'dev': torch.device('cpu'), 'dt': torch.float16, 'lay': torch.strided,
                  'n': None, 'f': 1.5, 'nan': float('nan'), 'big': 2**100, 's': 'x', 'b': b'\x00\xff', 'l': [1, (2, 3)],
                  'set': {1, 2}, 'fs': frozenset([3]), 'cplx': 1+2j, 'ba': bytearray(b'ab'), 'od': collections.OrderedDict(a=1),
                  'cnt': collections.Counter('aab'), 'true': True})
tsave('misc-p2-legacy.pt', {'set': {1, 2}, 'b': b'\x00\xff', 'ba': bytearray(b'ab'), 'cplx': 1+2j}, _use_new_zipfile_serialization=False)
tsave('numpy.pt', {'a': np.arange(6.).reshape(2, 3), 'i': np.int64(3), 'f': np.float32(1.5), 'b': np.bool_(True),
                   'u': np.array(['ab', 'c']), 'rec': np.zeros(2, dtype=[('x', 'f4'), ('y', 'i2')]), 'dt': np.dtype('f8'),
                   'be': np.arange(3, dtype='>i4'), 'str': np.str_('hi'), 'c': np.complex128(1j)})
plain = {'a': [1, 2.5, None, True], 'b': b'\x00\x01\xff', 'ba': bytearray(b'xy'), 'set': {1, 2}, 'fs': frozenset({'a'}),
         'c': 3+4j, 'big': -2**90, 'od': collections.OrderedDict([('k', 1)]), 'cnt': collections.Counter('abca'), 'u': 'é'}
for p in range(6):
    pdump(f'plain-p{p}.pkl', plain, p)
    pdump(f'numpy-p{p}.pkl', {'a': np.arange(4, dtype=np.float32), 's': np.float64(2.0), 'dt': np.dtype('i4'),
                               'rec': np.zeros(1, dtype=[('x', '<f8')]), 'dt64': np.array(['2020-01-01'], dtype='M8[D]')}, p)
    pdump(f'tensor-p{p}.pkl', {'t': torch.arange(3.)}, p)
