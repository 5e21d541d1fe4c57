//! Element types: every safetensors dtype (sizes in bits, since F4 and F6 pack below a byte) plus the
//! torch dtypes that safetensors cannot express, which can be listed but not converted, plus the
//! GGML block types of GGUF files ([`GgmlType`]), which are sized per block, not per element.

use serde::{Serialize, Serializer};

pub use super::ggml::{GGML_BLOCK_TYPES, GgmlType, file_type_label};

/// An element type of a tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(non_camel_case_types)]
pub enum DType {
    /// Boolean, one byte each.
    BOOL,
    /// 4-bit float E2M1 (MX FP4), two per byte.
    F4,
    /// 6-bit float E2M3.
    F6_E2M3,
    /// 6-bit float E3M2.
    F6_E3M2,
    /// Unsigned 8-bit integer.
    U8,
    /// Signed 8-bit integer.
    I8,
    /// 8-bit float E5M2 (IEEE-like, with infinities).
    F8_E5M2,
    /// 8-bit float E4M3FN (no infinities).
    F8_E4M3,
    /// 8-bit power-of-two scale E8M0.
    F8_E8M0,
    /// 8-bit float E4M3, finite, unsigned zero (AMD FNUZ).
    F8_E4M3FNUZ,
    /// 8-bit float E5M2, finite, unsigned zero (AMD FNUZ).
    F8_E5M2FNUZ,
    /// Signed 16-bit integer.
    I16,
    /// Unsigned 16-bit integer.
    U16,
    /// IEEE half precision.
    F16,
    /// bfloat16.
    BF16,
    /// Signed 32-bit integer.
    I32,
    /// Unsigned 32-bit integer.
    U32,
    /// IEEE single precision.
    F32,
    /// Complex of two f32.
    C64,
    /// IEEE double precision.
    F64,
    /// Signed 64-bit integer.
    I64,
    /// Unsigned 64-bit integer.
    U64,
    /// A torch dtype safetensors cannot express (`complex128`, `qint8`, …): listed, never converted.
    Torch {
        /// The torch name, e.g. `complex128`.
        name: &'static str,
        /// Element size in bits.
        bits: u32,
    },
    /// A GGML block type of a GGUF file (`Q4_K`, `IQ2_XXS`, …): [`DType::bits`] is 0 (no element has
    /// its own bits); sizes come from [`DType::bytes_for`] and [`DType::bits_per_weight`].
    Ggml(GgmlType),
}

/// Every safetensors dtype, in the crate's order.
pub const SAFETENSORS_DTYPES: [DType; 22] = [
    DType::BOOL,
    DType::F4,
    DType::F6_E2M3,
    DType::F6_E3M2,
    DType::U8,
    DType::I8,
    DType::F8_E5M2,
    DType::F8_E4M3,
    DType::F8_E8M0,
    DType::F8_E4M3FNUZ,
    DType::F8_E5M2FNUZ,
    DType::I16,
    DType::U16,
    DType::F16,
    DType::BF16,
    DType::I32,
    DType::U32,
    DType::F32,
    DType::C64,
    DType::F64,
    DType::I64,
    DType::U64,
];

impl DType {
    /// Size of one element in bits; 0 for GGML block types, whose elements share their block's bytes.
    pub fn bits(self) -> u32 {
        use DType::*;
        match self {
            F4 => 4,
            F6_E2M3 | F6_E3M2 => 6,
            BOOL | U8 | I8 | F8_E5M2 | F8_E4M3 | F8_E8M0 | F8_E4M3FNUZ | F8_E5M2FNUZ => 8,
            I16 | U16 | F16 | BF16 => 16,
            I32 | U32 | F32 => 32,
            C64 | F64 | I64 | U64 => 64,
            Torch { bits, .. } => bits,
            Ggml(_) => 0,
        }
    }

    /// The safetensors spelling (`F32`, `BF16`, `F8_E4M3`), or the torch name for torch-only types.
    pub fn name(self) -> &'static str {
        use DType::*;
        match self {
            BOOL => "BOOL",
            F4 => "F4",
            F6_E2M3 => "F6_E2M3",
            F6_E3M2 => "F6_E3M2",
            U8 => "U8",
            I8 => "I8",
            F8_E5M2 => "F8_E5M2",
            F8_E4M3 => "F8_E4M3",
            F8_E8M0 => "F8_E8M0",
            F8_E4M3FNUZ => "F8_E4M3FNUZ",
            F8_E5M2FNUZ => "F8_E5M2FNUZ",
            I16 => "I16",
            U16 => "U16",
            F16 => "F16",
            BF16 => "BF16",
            I32 => "I32",
            U32 => "U32",
            F32 => "F32",
            C64 => "C64",
            F64 => "F64",
            I64 => "I64",
            U64 => "U64",
            Torch { name, .. } => name,
            Ggml(g) => g.name(),
        }
    }

    /// Parse a safetensors spelling.
    pub fn from_safetensors_name(s: &str) -> Option<DType> {
        SAFETENSORS_DTYPES.iter().copied().find(|d| d.name() == s)
    }

    /// Whether safetensors can store this type.
    pub fn is_safetensors(self) -> bool {
        !matches!(self, DType::Torch { .. } | DType::Ggml(_))
    }

    /// Whether this is a GGML block type (known or not).
    pub fn is_ggml_block(self) -> bool {
        matches!(self, DType::Ggml(_))
    }

    /// Bytes needed for `elements` elements, rounded up to whole bytes (to whole blocks for GGML block
    /// types); `None` on overflow or for an unknown GGML type.
    pub fn bytes_for(self, elements: u64) -> Option<u64> {
        if let DType::Ggml(g) = self {
            let (n, b) = g.block()?;
            return elements.div_ceil(u64::from(n)).checked_mul(u64::from(b));
        }
        elements.checked_mul(u64::from(self.bits())).map(|b| b.div_ceil(8))
    }

    /// The safetensors crate's dtype, `None` for torch-only types.
    pub fn to_safetensors(self) -> Option<safetensors::Dtype> {
        use safetensors::Dtype as S;
        Some(match self {
            DType::BOOL => S::BOOL,
            DType::F4 => S::F4,
            DType::F6_E2M3 => S::F6_E2M3,
            DType::F6_E3M2 => S::F6_E3M2,
            DType::U8 => S::U8,
            DType::I8 => S::I8,
            DType::F8_E5M2 => S::F8_E5M2,
            DType::F8_E4M3 => S::F8_E4M3,
            DType::F8_E8M0 => S::F8_E8M0,
            DType::F8_E4M3FNUZ => S::F8_E4M3FNUZ,
            DType::F8_E5M2FNUZ => S::F8_E5M2FNUZ,
            DType::I16 => S::I16,
            DType::U16 => S::U16,
            DType::F16 => S::F16,
            DType::BF16 => S::BF16,
            DType::I32 => S::I32,
            DType::U32 => S::U32,
            DType::F32 => S::F32,
            DType::C64 => S::C64,
            DType::F64 => S::F64,
            DType::I64 => S::I64,
            DType::U64 => S::U64,
            DType::Torch { .. } | DType::Ggml(_) => return None,
        })
    }
}

impl std::fmt::Display for DType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DType::Ggml(GgmlType::Unknown(id)) => write!(f, "UNKNOWN(GGML type {id})"),
            d => f.write_str(d.name()),
        }
    }
}

impl Serialize for DType {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl DType {
    /// The dtype of GGUF type id `id`: a plain element type, a block type, or
    /// [`GgmlType::Unknown`].
    pub fn from_ggml_id(id: u32) -> DType {
        match id {
            0 => DType::F32,
            1 => DType::F16,
            24 => DType::I8,
            25 => DType::I16,
            26 => DType::I32,
            27 => DType::I64,
            28 => DType::F64,
            30 => DType::BF16,
            _ => DType::Ggml(GgmlType::from_id(id).unwrap_or(GgmlType::Unknown(id))),
        }
    }

    /// Elements per block: 1 for element types, the block size of a GGML block type, `None` for an
    /// unknown GGML type.
    pub fn block_size(self) -> Option<u64> {
        match self {
            DType::Ggml(g) => g.block().map(|(n, _)| u64::from(n)),
            _ => Some(1),
        }
    }

    /// Storage bits per element (4.5 for `Q4_K`, 16 for `F16`); `None` for an unknown GGML type.
    pub fn bits_per_weight(self) -> Option<f64> {
        match self {
            DType::Ggml(g) => g.block().map(|(n, b)| f64::from(b) * 8.0 / f64::from(n)),
            d => Some(f64::from(d.bits())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_match_the_crate() {
        for d in SAFETENSORS_DTYPES {
            assert_eq!(DType::from_safetensors_name(d.name()), Some(d));
            let s = d.to_safetensors().unwrap();
            assert_eq!(s.bitsize(), d.bits() as usize, "{d}");
            // the crate's JSON spelling is ours
            assert_eq!(serde_json::to_string(&s).unwrap(), format!("\"{}\"", d.name()));
        }
        assert_eq!(DType::from_safetensors_name("f32"), None);
    }

    #[test]
    fn sub_byte_sizes_round_up() {
        assert_eq!(DType::F4.bytes_for(3), Some(2));
        assert_eq!(DType::F6_E2M3.bytes_for(4), Some(3));
        assert_eq!(DType::F32.bytes_for(u64::MAX), None);
    }

    #[test]
    fn ids_names_and_sizes() {
        for g in GGML_BLOCK_TYPES {
            assert_eq!(GgmlType::from_id(g.id()), Some(g));
            assert_eq!(GgmlType::from_name(g.name()), Some(g));
            assert_eq!(DType::from_ggml_id(g.id()), DType::Ggml(g));
        }
        assert_eq!(DType::from_ggml_id(12).bits_per_weight(), Some(4.5));
        assert_eq!(DType::from_ggml_id(30), DType::BF16);
        assert_eq!(DType::from_ggml_id(77), DType::Ggml(GgmlType::Unknown(77)));
        assert_eq!(DType::Ggml(GgmlType::Unknown(77)).bytes_for(256), None);
        assert_eq!(DType::Ggml(GgmlType::Q4_K).bytes_for(512), Some(288));
        // a partial block still takes a whole block
        assert_eq!(DType::Ggml(GgmlType::Q8_0).bytes_for(33), Some(68));
        assert_eq!(file_type_label(15), Some("MOSTLY_Q4_K_M"));
    }
}
