//! The globals a `torch.save` pickle needs to rebuild tensors and containers, and nothing more.
//!
//! The restricted machine "calls" only these (as data operations, never as code); every other
//! global stays an opaque symbol. The scanner calls a file safe only when every global it names is
//! on this list. Names are compared exactly: a dotted attribute (`os.path` + `join`, or a name
//! holding a `.`) is never safe.
//!
//! ```
//! use tensorscope::model::DType;
//! use tensorscope::formats::pickle::allowlist::{classify_safe, is_safe, SafeGlobal};
//! assert_eq!(classify_safe("torch", "HalfStorage"), Some(SafeGlobal::Storage(DType::F16)));
//! assert_eq!(classify_safe("torch", "bfloat16"), Some(SafeGlobal::TorchDType(DType::BF16)));
//! assert!(is_safe("torch._utils", "_rebuild_tensor_v2"));
//! assert!(!is_safe("posix", "system"));
//! assert!(!is_safe("collections", "OrderedDict.fromkeys"));
//! ```

use crate::model::DType;

/// An allowlisted global and what it rebuilds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SafeGlobal {
    /// `collections.OrderedDict`: an ordered dict (also the empty `backward_hooks`).
    OrderedDict,
    /// `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks[, metadata])`.
    RebuildTensorV2,
    /// `torch._utils._rebuild_tensor_v3(storage, offset, size, stride, requires_grad, hooks, dtype[, metadata])`:
    /// what torch writes for dtypes without a typed storage class (float8, uint16/32/64, complex32, …)
    /// over a `torch.UntypedStorage`.
    RebuildTensorV3,
    /// `torch._utils._rebuild_tensor(storage, offset, size, stride)` (old files).
    RebuildTensor,
    /// `torch._utils._rebuild_parameter(data, requires_grad, hooks)`.
    RebuildParameter,
    /// `torch._utils._rebuild_parameter_with_state(data, requires_grad, hooks, state)`.
    RebuildParameterWithState,
    /// `torch._tensor._rebuild_from_type_v2(func, type, args, state)`: safe only when `func` is
    /// itself allowlisted (the caller must check).
    RebuildFromTypeV2,
    /// `torch.nn.parameter.Parameter(data, requires_grad)`.
    Parameter,
    /// `torch.Size(tuple)`.
    Size,
    /// `torch.device("cuda:0")`: a label only.
    Device,
    /// A typed storage class (`torch.FloatStorage`, `torch.cuda.HalfStorage`, …) of this element type.
    Storage(DType),
    /// `torch.UntypedStorage` (bytes; the element type comes with the persistent id).
    UntypedStorage,
    /// A dtype global (`torch.float16`, …).
    TorchDType(DType),
    /// `_codecs.encode(text, "latin1")`: how protocols 0 to 2 store bytes.
    CodecsEncode,
    /// `builtins.bytes` / `builtins.bytearray` (and `__builtin__`): empty bytes at protocol 2, bytearrays.
    Bytes,
    /// `builtins.set` / `builtins.frozenset` (and `__builtin__`): sets below protocol 4.
    Set,
    /// `numpy.core.multiarray._reconstruct` (or `numpy._core…`): an empty ndarray, filled by BUILD.
    NumpyReconstruct,
    /// `numpy.ndarray`: the class argument of `_reconstruct`.
    NumpyNdarray,
    /// `numpy.dtype("f4", …)`, with its byte order in BUILD state.
    NumpyDtype,
    /// `numpy.core.multiarray.scalar(dtype, bytes)`: a numpy scalar such as `np.float64(0.5)`.
    NumpyScalar,
    /// `numpy.core.numeric._frombuffer(buffer, dtype, shape, order)`: how numpy pickles an array at
    /// protocol 5 (pandas' default). It views bytes the pickle holds; numpy refuses any dtype that
    /// holds objects ("cannot create an OBJECT array from memory buffer") and any shape the bytes do not
    /// fill, so it allocates nothing the file does not carry.
    NumpyFromBuffer,
    /// `builtins.complex(real, imag)`.
    Complex,
    /// `collections.Counter(dict)`: a dict of counts.
    Counter,
    /// `torch.serialization._get_layout("torch.sparse_coo")` and layout globals (`torch.strided`, …).
    Layout,
    /// A quantization scheme global (`torch.per_tensor_affine`, …).
    QScheme,
    /// `torch._utils._rebuild_qtensor(storage, offset, size, stride, qparams, requires_grad, hooks)`.
    RebuildQTensor,
    /// `torch._utils._rebuild_sparse_tensor(layout, data)`: its index and value tensors are rebuilt
    /// on their own.
    RebuildSparseTensor,
    /// `torch._utils._rebuild_meta_tensor_no_storage(dtype, size, stride, requires_grad)`: shape only.
    RebuildMetaTensor,
    /// `torch.Tensor` (and `torch.nn.parameter.Buffer`): the type argument of
    /// `_rebuild_from_type_v2` for a tensor with Python attributes, a class only, never called.
    TensorType,
}

/// Whether `module.name` is allowlisted.
pub fn is_safe(module: &str, name: &str) -> bool {
    classify_safe(module, name).is_some()
}

/// The allowlist entry for `module.name`, `None` when it is not on the list.
pub fn classify_safe(module: &str, name: &str) -> Option<SafeGlobal> {
    use SafeGlobal as S;
    if name.is_empty() || name.contains('.') {
        return None;
    }
    Some(match (module, name) {
        ("collections", "OrderedDict") => S::OrderedDict,
        ("torch._utils", "_rebuild_tensor_v2") => S::RebuildTensorV2,
        ("torch._utils", "_rebuild_tensor_v3") => S::RebuildTensorV3,
        ("torch._utils", "_rebuild_tensor") => S::RebuildTensor,
        ("torch._utils", "_rebuild_parameter") => S::RebuildParameter,
        ("torch._utils", "_rebuild_parameter_with_state") => S::RebuildParameterWithState,
        ("torch._tensor", "_rebuild_from_type_v2") => S::RebuildFromTypeV2,
        ("torch.nn.parameter", "Parameter") => S::Parameter,
        ("torch", "Tensor") | ("torch.nn.parameter", "Buffer") => S::TensorType,
        ("torch", "Size") => S::Size,
        ("torch", "device") => S::Device,
        ("torch" | "torch.storage", "UntypedStorage") => S::UntypedStorage,
        ("torch" | "torch.cuda", n) if storage_dtype(n).is_some() => S::Storage(storage_dtype(n)?),
        ("torch", n) if torch_dtype(n).is_some() => S::TorchDType(torch_dtype(n)?),
        ("_codecs", "encode") => S::CodecsEncode,
        ("builtins" | "__builtin__", "bytes" | "bytearray") => S::Bytes,
        ("builtins" | "__builtin__", "set" | "frozenset") => S::Set,
        ("numpy.core.multiarray" | "numpy._core.multiarray", "_reconstruct") => S::NumpyReconstruct,
        ("numpy.core.multiarray" | "numpy._core.multiarray", "scalar") => S::NumpyScalar,
        ("numpy.core.numeric" | "numpy._core.numeric", "_frombuffer") => S::NumpyFromBuffer,
        ("numpy", "ndarray") => S::NumpyNdarray,
        ("numpy", "dtype") => S::NumpyDtype,
        // what torch's weights_only unpickler also accepts (torch/_weights_only_unpickler.py)
        ("builtins" | "__builtin__", "complex") => S::Complex,
        ("collections", "Counter") => S::Counter,
        ("torch.serialization", "_get_layout") => S::Layout,
        (
            "torch",
            "strided" | "sparse_coo" | "sparse_csr" | "sparse_csc" | "sparse_bsr" | "sparse_bsc" | "_mkldnn" | "jagged",
        ) => S::Layout,
        (
            "torch",
            "per_tensor_affine"
            | "per_channel_affine"
            | "per_tensor_symmetric"
            | "per_channel_symmetric"
            | "per_channel_affine_float_qparams",
        ) => S::QScheme,
        ("torch._utils", "_rebuild_qtensor") => S::RebuildQTensor,
        ("torch._utils", "_rebuild_sparse_tensor") => S::RebuildSparseTensor,
        ("torch._utils", "_rebuild_meta_tensor_no_storage") => S::RebuildMetaTensor,
        _ => return None,
    })
}

/// Why a global that is on no list is refused by torch's `weights_only` loader too, for the
/// globals people meet in real checkpoints; `None` for the rest (the generic reason applies).
///
/// ```
/// use tensorscope::formats::pickle::allowlist::suspicious_why;
/// assert!(suspicious_why("pathlib", "PosixPath").is_some());
/// assert!(suspicious_why("collections", "defaultdict").is_some());
/// assert!(suspicious_why("mylib", "Thing").is_none());
/// ```
pub fn suspicious_why(module: &str, name: &str) -> Option<&'static str> {
    Some(match (module, name) {
        ("pathlib", _) => "a file path: building one touches nothing, but torch's weights_only loader refuses it",
        ("argparse", "Namespace") => "training arguments: torch's weights_only loader refuses them",
        ("collections", "defaultdict") => {
            "a defaultdict holds a factory callable; torch's weights_only loader refuses it"
        }
        ("datetime", _) => "a date or time: torch's weights_only loader refuses it",
        ("dataclasses", _) => "dataclass machinery: torch's weights_only loader refuses it",
        ("__main__", _) => "a class of the script that saved it (a pickled model class): loading runs its code",
        _ => return None,
    })
}

const fn torch_only(name: &'static str, bits: u32) -> DType {
    DType::Torch { name, bits }
}

/// The element type of a typed storage class name (`FloatStorage` -> F32); `None` for other names.
pub fn storage_dtype(class: &str) -> Option<DType> {
    Some(match class {
        "DoubleStorage" => DType::F64,
        "FloatStorage" => DType::F32,
        "HalfStorage" => DType::F16,
        "BFloat16Storage" => DType::BF16,
        "LongStorage" => DType::I64,
        "IntStorage" => DType::I32,
        "ShortStorage" => DType::I16,
        "CharStorage" => DType::I8,
        "ByteStorage" => DType::U8,
        "BoolStorage" => DType::BOOL,
        "ComplexFloatStorage" => DType::C64,
        "ComplexDoubleStorage" => torch_only("complex128", 128),
        "QInt8Storage" => torch_only("qint8", 8),
        "QUInt8Storage" => torch_only("quint8", 8),
        "QInt32Storage" => torch_only("qint32", 32),
        "QUInt4x2Storage" => torch_only("quint4x2", 8),
        "QUInt2x4Storage" => torch_only("quint2x4", 8),
        _ => return None,
    })
}

/// The element type of a torch dtype global (`float8_e4m3fn` -> F8_E4M3, `complex128` -> torch-only).
pub fn torch_dtype(name: &str) -> Option<DType> {
    Some(match name {
        "float64" | "double" => DType::F64,
        "float32" | "float" => DType::F32,
        "float16" | "half" => DType::F16,
        "bfloat16" => DType::BF16,
        "int64" | "long" => DType::I64,
        "int32" | "int" => DType::I32,
        "int16" | "short" => DType::I16,
        "int8" => DType::I8,
        "uint8" => DType::U8,
        "uint16" => DType::U16,
        "uint32" => DType::U32,
        "uint64" => DType::U64,
        "bool" => DType::BOOL,
        "complex64" | "cfloat" => DType::C64,
        "float8_e4m3fn" => DType::F8_E4M3,
        "float8_e5m2" => DType::F8_E5M2,
        "float8_e4m3fnuz" => DType::F8_E4M3FNUZ,
        "float8_e5m2fnuz" => DType::F8_E5M2FNUZ,
        "float8_e8m0fnu" => DType::F8_E8M0,
        "complex128" | "cdouble" => torch_only("complex128", 128),
        "complex32" | "chalf" => torch_only("complex32", 32),
        // two E2M1 values per byte, but torch counts the packed byte as one element
        "float4_e2m1fn_x2" => torch_only("float4_e2m1fn_x2", 8),
        "qint8" => torch_only("qint8", 8),
        "quint8" => torch_only("quint8", 8),
        "qint32" => torch_only("qint32", 32),
        "quint4x2" => torch_only("quint4x2", 8),
        "quint2x4" => torch_only("quint2x4", 8),
        "bits8" => torch_only("bits8", 8),
        "bits16" => torch_only("bits16", 16),
        "bits1x8" => torch_only("bits1x8", 8),
        "bits2x4" => torch_only("bits2x4", 8),
        "bits4x2" => torch_only("bits4x2", 8),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_issue_list_is_safe() {
        for (m, n) in [
            ("collections", "OrderedDict"),
            ("torch._utils", "_rebuild_tensor_v2"),
            ("torch._utils", "_rebuild_tensor_v3"),
            ("torch._utils", "_rebuild_tensor"),
            ("torch._utils", "_rebuild_parameter"),
            ("torch._utils", "_rebuild_parameter_with_state"),
            ("torch.nn.parameter", "Parameter"),
            ("torch", "Size"),
            ("torch", "device"),
            ("torch", "UntypedStorage"),
            ("torch", "float16"),
            ("_codecs", "encode"),
            ("torch._tensor", "_rebuild_from_type_v2"),
            ("numpy.core.multiarray", "_reconstruct"),
            ("numpy._core.multiarray", "_reconstruct"),
            ("numpy.core.numeric", "_frombuffer"),
            ("numpy._core.numeric", "_frombuffer"),
            ("numpy", "ndarray"),
            ("numpy", "dtype"),
        ] {
            assert!(is_safe(m, n), "{m}.{n}");
        }
    }

    #[test]
    fn everything_else_is_not() {
        for (m, n) in [
            ("posix", "system"),
            ("os", "system"),
            ("builtins", "eval"),
            ("builtins", "getattr"),
            ("__builtin__", "exec"),
            ("argparse", "Namespace"),
            ("torch", "load"),
            ("torch", "save"),
            ("torch.serialization", "load"),
            ("numpy", "load"),
            ("collections", "OrderedDict.fromkeys"),
            ("os.path", "join"),
            ("torch", "Size "),
            ("torch ", "Size"),
            ("Torch", "Size"),
            ("torch", "FloatStorage\n"),
            ("torch", ""),
            ("", "OrderedDict"),
            ("collections", "defaultdict"),
        ] {
            assert!(!is_safe(m, n), "{m:?}.{n:?}");
        }
    }

    #[test]
    fn storage_classes_map_to_dtypes() {
        let cases = [
            ("FloatStorage", DType::F32),
            ("HalfStorage", DType::F16),
            ("BFloat16Storage", DType::BF16),
            ("DoubleStorage", DType::F64),
            ("LongStorage", DType::I64),
            ("IntStorage", DType::I32),
            ("ShortStorage", DType::I16),
            ("CharStorage", DType::I8),
            ("ByteStorage", DType::U8),
            ("BoolStorage", DType::BOOL),
            ("ComplexFloatStorage", DType::C64),
            (
                "ComplexDoubleStorage",
                DType::Torch {
                    name: "complex128",
                    bits: 128,
                },
            ),
            ("QInt8Storage", DType::Torch { name: "qint8", bits: 8 }),
            (
                "QInt32Storage",
                DType::Torch {
                    name: "qint32",
                    bits: 32,
                },
            ),
        ];
        for (class, dt) in cases {
            assert_eq!(classify_safe("torch", class), Some(SafeGlobal::Storage(dt)), "{class}");
            assert_eq!(
                classify_safe("torch.cuda", class),
                Some(SafeGlobal::Storage(dt)),
                "cuda {class}"
            );
        }
        assert_eq!(storage_dtype("TypedStorage"), None);
    }

    #[test]
    fn dtype_globals_map_to_safetensors_names() {
        let cases = [
            ("float8_e4m3fn", "F8_E4M3"),
            ("float8_e5m2", "F8_E5M2"),
            ("float8_e4m3fnuz", "F8_E4M3FNUZ"),
            ("float8_e5m2fnuz", "F8_E5M2FNUZ"),
            ("float8_e8m0fnu", "F8_E8M0"),
            ("uint16", "U16"),
            ("uint32", "U32"),
            ("uint64", "U64"),
            ("bool", "BOOL"),
            ("complex64", "C64"),
            ("bfloat16", "BF16"),
            ("complex128", "complex128"),
            ("qint8", "qint8"),
        ];
        for (n, want) in cases {
            let Some(SafeGlobal::TorchDType(d)) = classify_safe("torch", n) else {
                panic!("{n}")
            };
            assert_eq!(d.name(), want);
        }
        assert!(
            !DType::Torch {
                name: "complex128",
                bits: 128
            }
            .is_safetensors()
        );
        assert_eq!(torch_dtype("complex128").unwrap().bits(), 128);
    }
}
