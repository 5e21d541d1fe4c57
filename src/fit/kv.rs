//! The KV cache element type (`--kv-type`) and the bytes of one cached row.

use serde::Serialize;

/// How the KV cache stores its values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KvType {
    /// IEEE half precision, 2 bytes a value (llama.cpp's and vLLM's default).
    F16,
    /// bfloat16, 2 bytes a value.
    Bf16,
    /// Single precision, 4 bytes a value.
    F32,
    /// GGML Q8_0 blocks: 34 bytes per 32 values.
    Q8_0,
    /// GGML Q4_0 blocks: 18 bytes per 32 values.
    Q4_0,
    /// 8-bit float (vLLM's `--kv-cache-dtype fp8`), 1 byte a value.
    Fp8,
}

/// Values per GGML block of the block types (Q8_0, Q4_0).
pub const BLOCK: u64 = 32;

impl KvType {
    /// Every type, in the order `--help` lists them.
    pub const ALL: [KvType; 6] = [
        KvType::F16,
        KvType::Bf16,
        KvType::F32,
        KvType::Q8_0,
        KvType::Q4_0,
        KvType::Fp8,
    ];

    /// The spelling of `--kv-type` and of the JSON (`q8_0`).
    pub fn as_str(self) -> &'static str {
        match self {
            KvType::F16 => "f16",
            KvType::Bf16 => "bf16",
            KvType::F32 => "f32",
            KvType::Q8_0 => "q8_0",
            KvType::Q4_0 => "q4_0",
            KvType::Fp8 => "fp8",
        }
    }

    /// Parse `--kv-type`.
    pub fn parse(s: &str) -> Option<KvType> {
        KvType::ALL.into_iter().find(|k| k.as_str() == s.to_ascii_lowercase())
    }

    /// Bytes of one row of `values` values: `values × size` for plain types, whole blocks for the
    /// block types (a row of 33 values takes two Q8_0 blocks, as llama.cpp's `ggml_row_size`
    /// would need). `None` on overflow.
    ///
    /// ```
    /// use tensorscope::fit::KvType;
    /// assert_eq!(KvType::F16.row_bytes(1024), Some(2048));
    /// assert_eq!(KvType::Q8_0.row_bytes(1024), Some(1024 / 32 * 34));
    /// assert_eq!(KvType::Q4_0.row_bytes(64), Some(36));
    /// ```
    pub fn row_bytes(self, values: u64) -> Option<u64> {
        match self {
            KvType::F16 | KvType::Bf16 => values.checked_mul(2),
            KvType::F32 => values.checked_mul(4),
            KvType::Fp8 => Some(values),
            KvType::Q8_0 => values.div_ceil(BLOCK).checked_mul(34),
            KvType::Q4_0 => values.div_ceil(BLOCK).checked_mul(18),
        }
    }

    /// vLLM's `--kv-cache-dtype`: `Some("")` for its default (`auto`, the model's 16-bit dtype),
    /// `None` where vLLM has no such cache (f32, the GGML block types).
    pub fn vllm(self) -> Option<&'static str> {
        match self {
            KvType::F16 | KvType::Bf16 => Some(""),
            KvType::Fp8 => Some("fp8"),
            KvType::F32 | KvType::Q8_0 | KvType::Q4_0 => None,
        }
    }

    /// The llama.cpp cache type name (`-ctk`/`-ctv`), `None` where llama.cpp has none (fp8).
    pub fn llama_cpp(self) -> Option<&'static str> {
        match self {
            KvType::Fp8 => None,
            k => Some(k.as_str()),
        }
    }
}

impl std::fmt::Display for KvType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_blocks_round_up() {
        for k in KvType::ALL {
            assert_eq!(KvType::parse(k.as_str()), Some(k));
        }
        assert_eq!(KvType::parse("Q8_0"), Some(KvType::Q8_0));
        assert_eq!(KvType::parse("q5_1"), None);
        assert_eq!(KvType::Q8_0.row_bytes(33), Some(68));
        assert_eq!(KvType::F32.row_bytes(u64::MAX), None);
    }
}
