//! The GGML block types of GGUF files (`Q4_K`, `IQ2_XXS`, `MXFP4`, …): type ids, names as gguf-py
//! spells them, and block geometry. The element types GGUF shares with safetensors (`F32`, `F16`,
//! `BF16`, `I8`…`I64`, `F64`) are plain [`DType`](super::DType)s; [`DType::from_ggml_id`](super::DType::from_ggml_id) maps every id.

/// A GGML block-quantized type: `block` elements stored in `bytes` bytes, never addressable one
/// element at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(non_camel_case_types)]
pub enum GgmlType {
    /// 32 × 4-bit, one f16 scale.
    Q4_0,
    /// 32 × 4-bit, f16 scale and minimum.
    Q4_1,
    /// 32 × 5-bit, one f16 scale.
    Q5_0,
    /// 32 × 5-bit, f16 scale and minimum.
    Q5_1,
    /// 32 × 8-bit, one f16 scale.
    Q8_0,
    /// 32 × 8-bit, f16 scale and sum (a dot-product intermediate).
    Q8_1,
    /// K-quant, 2-bit.
    Q2_K,
    /// K-quant, 3-bit.
    Q3_K,
    /// K-quant, 4-bit.
    Q4_K,
    /// K-quant, 5-bit.
    Q5_K,
    /// K-quant, 6-bit.
    Q6_K,
    /// K-quant, 8-bit (a dot-product intermediate).
    Q8_K,
    /// i-quant, 2.06 bits per weight.
    IQ2_XXS,
    /// i-quant, 2.31 bits per weight.
    IQ2_XS,
    /// i-quant, 3.06 bits per weight.
    IQ3_XXS,
    /// i-quant, 1.56 bits per weight.
    IQ1_S,
    /// 32 × 4-bit non-linear.
    IQ4_NL,
    /// i-quant, 3.44 bits per weight.
    IQ3_S,
    /// i-quant, 2.5 bits per weight.
    IQ2_S,
    /// 4-bit non-linear with 6-bit sub-block scales.
    IQ4_XS,
    /// i-quant, 1.75 bits per weight.
    IQ1_M,
    /// ternary, 1.69 bits per weight.
    TQ1_0,
    /// ternary, 2.06 bits per weight.
    TQ2_0,
    /// OCP MX FP4: 32 × E2M1 with an E8M0 scale.
    MXFP4,
    /// NVIDIA FP4: 64 × E2M1 with four UE4M3 scales.
    NVFP4,
    /// 128 × 1-bit with an f16 scale.
    Q1_0,
    /// A type id tensorscope does not know: listed, never decoded.
    Unknown(u32),
}

/// `(type, id, name, elements per block, bytes per block)` of every known block type.
const TABLE: [(GgmlType, u32, &str, u32, u32); 26] = {
    use GgmlType::*;
    [
        (Q4_0, 2, "Q4_0", 32, 18),
        (Q4_1, 3, "Q4_1", 32, 20),
        (Q5_0, 6, "Q5_0", 32, 22),
        (Q5_1, 7, "Q5_1", 32, 24),
        (Q8_0, 8, "Q8_0", 32, 34),
        // ggml's block_q8_1: f16 d, f16 s, 32 int8 (gguf-py still lists an older 40-byte layout)
        (Q8_1, 9, "Q8_1", 32, 36),
        (Q2_K, 10, "Q2_K", 256, 84),
        (Q3_K, 11, "Q3_K", 256, 110),
        (Q4_K, 12, "Q4_K", 256, 144),
        (Q5_K, 13, "Q5_K", 256, 176),
        (Q6_K, 14, "Q6_K", 256, 210),
        (Q8_K, 15, "Q8_K", 256, 292),
        (IQ2_XXS, 16, "IQ2_XXS", 256, 66),
        (IQ2_XS, 17, "IQ2_XS", 256, 74),
        (IQ3_XXS, 18, "IQ3_XXS", 256, 98),
        (IQ1_S, 19, "IQ1_S", 256, 50),
        (IQ4_NL, 20, "IQ4_NL", 32, 18),
        (IQ3_S, 21, "IQ3_S", 256, 110),
        (IQ2_S, 22, "IQ2_S", 256, 82),
        (IQ4_XS, 23, "IQ4_XS", 256, 136),
        (IQ1_M, 29, "IQ1_M", 256, 56),
        (TQ1_0, 34, "TQ1_0", 256, 54),
        (TQ2_0, 35, "TQ2_0", 256, 66),
        (MXFP4, 39, "MXFP4", 32, 17),
        (NVFP4, 40, "NVFP4", 64, 36),
        (Q1_0, 41, "Q1_0", 128, 18),
    ]
};

/// Every known block type, in type-id order.
pub const GGML_BLOCK_TYPES: [GgmlType; 26] = {
    let mut out = [GgmlType::Q4_0; 26];
    let mut i = 0;
    while i < 26 {
        out[i] = TABLE[i].0;
        i += 1;
    }
    out
};

impl GgmlType {
    fn entry(self) -> Option<&'static (GgmlType, u32, &'static str, u32, u32)> {
        TABLE.iter().find(|e| e.0 == self)
    }

    /// The GGML type id stored in a GGUF tensor info.
    pub fn id(self) -> u32 {
        match self {
            GgmlType::Unknown(id) => id,
            t => t.entry().map_or(u32::MAX, |e| e.1),
        }
    }

    /// The name as gguf-py spells it (`Q4_K`); `UNKNOWN` for an unknown id.
    pub fn name(self) -> &'static str {
        self.entry().map_or("UNKNOWN", |e| e.2)
    }

    /// `(elements per block, bytes per block)`; `None` for an unknown id.
    pub fn block(self) -> Option<(u32, u32)> {
        self.entry().map(|e| (e.3, e.4))
    }

    /// The known block type with GGUF type id `id`, if it is one.
    pub fn from_id(id: u32) -> Option<GgmlType> {
        TABLE.iter().find(|e| e.1 == id).map(|e| e.0)
    }

    /// The known block type spelled `name`.
    pub fn from_name(name: &str) -> Option<GgmlType> {
        TABLE.iter().find(|e| e.2 == name).map(|e| e.0)
    }
}

/// `general.file_type` (llama.cpp's `llama_ftype`) as its label, `MOSTLY_Q4_K_M`.
pub fn file_type_label(v: u64) -> Option<&'static str> {
    Some(match v {
        0 => "ALL_F32",
        1 => "MOSTLY_F16",
        2 => "MOSTLY_Q4_0",
        3 => "MOSTLY_Q4_1",
        4 => "MOSTLY_Q4_1_SOME_F16",
        7 => "MOSTLY_Q8_0",
        8 => "MOSTLY_Q5_0",
        9 => "MOSTLY_Q5_1",
        10 => "MOSTLY_Q2_K",
        11 => "MOSTLY_Q3_K_S",
        12 => "MOSTLY_Q3_K_M",
        13 => "MOSTLY_Q3_K_L",
        14 => "MOSTLY_Q4_K_S",
        15 => "MOSTLY_Q4_K_M",
        16 => "MOSTLY_Q5_K_S",
        17 => "MOSTLY_Q5_K_M",
        18 => "MOSTLY_Q6_K",
        19 => "MOSTLY_IQ2_XXS",
        20 => "MOSTLY_IQ2_XS",
        21 => "MOSTLY_Q2_K_S",
        22 => "MOSTLY_IQ3_XS",
        23 => "MOSTLY_IQ3_XXS",
        24 => "MOSTLY_IQ1_S",
        25 => "MOSTLY_IQ4_NL",
        26 => "MOSTLY_IQ3_S",
        27 => "MOSTLY_IQ3_M",
        28 => "MOSTLY_IQ2_S",
        29 => "MOSTLY_IQ2_M",
        30 => "MOSTLY_IQ4_XS",
        31 => "MOSTLY_IQ1_M",
        32 => "MOSTLY_BF16",
        36 => "MOSTLY_TQ1_0",
        37 => "MOSTLY_TQ2_0",
        38 => "MOSTLY_MXFP4_MOE",
        39 => "MOSTLY_NVFP4",
        40 => "MOSTLY_Q1_0",
        1024 => "GUESSED",
        _ => return None,
    })
}
