//! CVE references of scan findings: the one table of which published vulnerability a finding is an
//! instance of, used by the BOM (CycloneDX `vulnerabilities[].references`, SPDX
//! `security_Vulnerability`) and the SARIF properties.
//!
//! A CVE is attached only where the finding is exactly what the CVE describes, so a reader can
//! trust the reference:
//!
//! | CVE | finding | source |
//! |---|---|---|
//! | CVE-2025-32434 | a TorchScript archive, which `torch.load(weights_only=True)` hands to the TorchScript loader before torch 2.6 | NVD: affects torch up to 2.5.1, fixed in 2.6.0 |
//! | CVE-2026-24747 | tensor metadata (storage sizes, views) that the `weights_only` unpickler trusts before torch 2.10 | NVD (published 2026-01-27): memory corruption in the `weights_only` unpickler, fixed in 2.10.0 |
//! | CVE-2024-34359 | a dangerous GGUF chat template (one that reaches Python internals): llama-cpp-python up to 0.2.71 rendered `tokenizer.chat_template` with an unsandboxed `jinja2.Environment` | NVD; abetlen/llama-cpp-python#1462 ("fix CVE-2024-34359 by using SandboxedEnvironment"): server-side template injection from a GGUF's metadata |
//! | CVE-2019-6446 | a dangerous global in a pickle inside a `.npy`/`.npz`: `np.load` unpickled by default before numpy 1.16.3 | NVD; numpy PR #12889 / #13359 (`allow_pickle` default switched to False "in response to CVE-2019-6446") |
//!
//! Left out on purpose:
//! - a dangerous global in a plain pickle, `torch.save` archive or joblib file: `pickle.load`,
//!   `torch.load(weights_only=False)` and `joblib.load` run code by design, as documented; no CVE
//!   describes that (CVE-2024-34997 for joblib's `NumpyArrayWrapper` and CVE-2020-13091 for
//!   `pandas.read_pickle` are disputed by their projects on exactly that ground);
//! - template findings of unbounded work (a sandbox does not stop them; CVE-2024-34359 is code
//!   execution), GGUF keys equal up to a NUL byte, and templates in files beside a model
//!   (transformers renders them in a sandbox, llama-cpp-python reads only the GGUF's);
//! - CVE-2026-5760 (SGLang's `/v1/rerank` rendering a model's template unsandboxed): its advisory
//!   shows a GGUF template but does not bound which template sources and versions it covers;
//! - llama.cpp's GGUF parsing CVEs (CVE-2024-21802, -21825, -21836, …): the scanner reports a GGUF
//!   it cannot parse as an error, without saying which of those overflows a file would trigger.

use super::{Finding, Severity, loaders};

/// A published vulnerability a finding is an instance of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cve {
    /// `CVE-YYYY-NNNNN`.
    pub id: &'static str,
    /// What it is, in a few words.
    pub what: &'static str,
}

impl Cve {
    /// The NVD page of the CVE.
    pub fn url(&self) -> String {
        format!("https://nvd.nist.gov/vuln/detail/{}", self.id)
    }
}

/// TorchScript archives run under `torch.load(weights_only=True)` before torch 2.6.
pub const TORCHSCRIPT_WEIGHTS_ONLY: Cve = Cve {
    id: "CVE-2025-32434",
    what: "torch.load(weights_only=True) runs code before torch 2.6",
};
/// Tensor metadata tricks against the `weights_only` unpickler before torch 2.10.
pub const WEIGHTS_ONLY_METADATA: Cve = Cve {
    id: "CVE-2026-24747",
    what: "memory corruption in torch's weights_only unpickler before torch 2.10",
};
/// llama-cpp-python rendered GGUF chat templates without a sandbox up to 0.2.71.
pub const LLAMA_CPP_PYTHON_TEMPLATE: Cve = Cve {
    id: "CVE-2024-34359",
    what: "llama-cpp-python up to 0.2.71 renders a GGUF's chat template without a sandbox",
};
/// `np.load` unpickled by default before numpy 1.16.3.
pub const NUMPY_ALLOW_PICKLE: Cve = Cve {
    id: "CVE-2019-6446",
    what: "np.load unpickles by default before numpy 1.16.3",
};

/// The CVEs a finding of a file of `format` is an instance of (its [`Finding::loaders`] filled in).
pub fn of(format: &str, f: &Finding) -> Vec<Cve> {
    let inner = format.rsplit('/').next().unwrap_or(format);
    let has = |l: &str| f.loaders.iter().any(|x| x == l);
    let mut out = Vec::new();
    if has(loaders::TORCH_BEFORE_2_6) {
        out.push(TORCHSCRIPT_WEIGHTS_ONLY);
    }
    if has(loaders::TORCH_BEFORE_2_10) {
        out.push(WEIGHTS_ONLY_METADATA);
    }
    let gguf = matches!(inner, "gguf" | "gguf-sharded");
    if gguf
        && f.severity == Severity::Dangerous
        && f.global.is_none()
        && has(loaders::TEMPLATE)
        && !has(loaders::TEMPLATE_SANDBOXED)
        && !has(loaders::GGUF_KEYS)
    {
        out.push(LLAMA_CPP_PYTHON_TEMPLATE);
    }
    if matches!(inner, "numpy" | "numpy-zip") && f.severity == Severity::Dangerous && f.global.is_some() {
        out.push(NUMPY_ALLOW_PICKLE);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(global: Option<&str>, severity: Severity, loaders: &[&str]) -> Finding {
        Finding {
            entry: String::new(),
            global: global.map(str::to_owned),
            severity,
            offset: None,
            why: String::new(),
            loaders: loaders.iter().map(|l| (*l).to_owned()).collect(),
        }
    }

    #[test]
    fn cves_only_where_the_finding_is_the_cve() {
        let d = Severity::Dangerous;
        let ts = finding(
            None,
            d,
            &[loaders::TORCH_FULL, loaders::TORCH_BEFORE_2_6, loaders::TORCH_JIT],
        );
        assert_eq!(of("pytorch-zip", &ts), [TORCHSCRIPT_WEIGHTS_ONLY]);
        let meta = finding(
            None,
            Severity::Suspicious,
            &[loaders::TORCH_FULL, loaders::TORCH_BEFORE_2_10],
        );
        assert_eq!(of("pytorch-zip", &meta), [WEIGHTS_ONLY_METADATA]);
        // a plain pickle global runs by design in every loader: no CVE
        assert!(of("pytorch-zip", &finding(Some("posix.system"), d, &[loaders::TORCH_FULL])).is_empty());
        assert!(of("pickle", &finding(Some("posix.system"), d, &[loaders::PICKLE])).is_empty());
        // numpy's default before 1.16.3
        assert_eq!(
            of("numpy", &finding(Some("posix.system"), d, &[loaders::NUMPY])),
            [NUMPY_ALLOW_PICKLE]
        );
        assert!(of("numpy", &finding(Some("x.y"), Severity::Suspicious, &[loaders::NUMPY])).is_empty());
        // templates: code-running ones in a GGUF only
        let t = finding(None, d, &[loaders::TEMPLATE]);
        assert_eq!(of("gguf", &t), [LLAMA_CPP_PYTHON_TEMPLATE]);
        assert!(of("chat-template", &t).is_empty());
        let dos = finding(
            None,
            Severity::Suspicious,
            &[loaders::TEMPLATE, loaders::TEMPLATE_SANDBOXED],
        );
        assert!(of("gguf", &dos).is_empty());
        let keys = finding(None, Severity::Suspicious, &[loaders::GGUF_KEYS, loaders::TEMPLATE]);
        assert!(of("gguf", &keys).is_empty());
        assert_eq!(
            TORCHSCRIPT_WEIGHTS_ONLY.url(),
            "https://nvd.nist.gov/vuln/detail/CVE-2025-32434"
        );
    }
}
