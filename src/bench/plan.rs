//! From a [`Config`] and the opened checkpoints to the list of cases to time:
//! checkpoint × method × device × cache × touched (× rank for `--ranks`).

use std::path::{Path, PathBuf};

use super::{CacheState, Config, Device, Memory, Method};
use crate::Result;
use crate::checkpoint::{self, Format};

/// The file format a target's tensors come from: what its rows may be called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Safetensors files (`safetensors-*` methods).
    Safetensors,
    /// `torch.save` pickles (`pickle-*` methods).
    Pickle,
    /// GGUF files (`gguf-*` methods).
    Gguf,
}

impl Kind {
    /// The kind of one weight file's format.
    pub fn of(format: Format) -> Kind {
        match format {
            f if f.is_pickle() => Kind::Pickle,
            Format::Gguf | Format::GgufSharded => Kind::Gguf,
            _ => Kind::Safetensors,
        }
    }

    /// How reports name it.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Safetensors => "safetensors",
            Kind::Pickle => "pickle",
            Kind::Gguf => "GGUF",
        }
    }
}

/// Most files a folder mixing formats is split into (one target per file).
const MAX_SPLIT: usize = 64;

/// A checkpoint to measure, opened once to learn its format and files.
#[derive(Debug, Clone)]
pub struct Target {
    /// The path as given.
    pub root: PathBuf,
    /// Its format.
    pub format: Format,
    /// Its weight files.
    pub files: Vec<PathBuf>,
    /// Whether every file is a torch zip archive (what `torch.load(mmap=True)` needs).
    pub all_zip: bool,
    /// Bytes on disk.
    pub bytes: u64,
    /// Number of tensors.
    pub tensors: usize,
    /// The format of every file: the methods it gets.
    pub kind: Kind,
    /// Parameters and unique tensor bytes as the model defines them (tied weights once): two targets
    /// that differ here hold different tensors, and no speedup is computed between them.
    pub content: (u64, u64),
}

impl Target {
    /// Open `path` (without reading tensor data) and describe it. A folder whose files are in
    /// more than one format (a snapshot with `model.safetensors` and `pytorch_model.bin`) is one
    /// target per file, so that no row loads one format under another's name.
    pub fn open_all(path: &Path) -> Result<Vec<Target>> {
        let ck = open_local(path)?;
        let mut kinds: Vec<Kind> = weight_files(&ck).map(|f| Kind::of(f.format)).collect();
        kinds.sort_by_key(|k| k.as_str());
        kinds.dedup();
        if kinds.len() <= 1 {
            return Ok(vec![Target::from_checkpoint(path, &ck)]);
        }
        let weights: Vec<PathBuf> = weight_files(&ck).map(|f| f.full_path.clone()).collect();
        if weights.len() > MAX_SPLIT {
            let names: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
            return Err(crate::Error::Usage(format!(
                "{}: {} files in {} formats: bench each format's files on their own",
                crate::text::path(path),
                weights.len(),
                names.join(" and ")
            )));
        }
        drop(ck);
        weights.iter().map(|f| Target::open(f)).collect()
    }

    /// Open one checkpoint in one format (see [`Target::open_all`] for folders mixing formats).
    pub fn open(path: &Path) -> Result<Target> {
        let ck = open_local(path)?;
        let t = Target::from_checkpoint(path, &ck);
        if weight_files(&ck).any(|f| Kind::of(f.format) != t.kind) {
            return Err(crate::Error::Usage(format!(
                "{}: holds files in more than one format: bench each file on its own",
                crate::text::path(path)
            )));
        }
        Ok(t)
    }

    fn from_checkpoint(path: &Path, ck: &checkpoint::Checkpoint) -> Target {
        let weights: Vec<&checkpoint::FileEntry> = weight_files(ck).collect();
        let all_zip = weights.iter().all(|f| f.format == Format::PytorchZip);
        let kind = match weights.first() {
            Some(f) => Kind::of(f.format),
            None if ck.format.is_pickle() => Kind::Pickle,
            None => Kind::of(ck.format),
        };
        Target {
            root: path.to_path_buf(),
            format: ck.format,
            files: weights.iter().map(|f| f.full_path.clone()).collect(),
            all_zip,
            bytes: weights.iter().map(|f| f.bytes).sum(),
            tensors: ck.tensors.len(),
            kind,
            content: {
                let c = ck.counting();
                (c.params, c.unique_bytes)
            },
        }
    }

    /// Whether its tensors come from pickles.
    pub fn is_pickle(&self) -> bool {
        self.kind == Kind::Pickle
    }

    fn applies(&self, m: Method) -> bool {
        match m {
            Method::PickleEager | Method::PickleSlice => self.is_pickle(),
            Method::PickleMmap | Method::PickleMmapSlice => self.is_pickle() && self.all_zip,
            Method::GgufMmap | Method::GgufRead => self.kind == Kind::Gguf,
            Method::FileRead => !self.is_pickle(),
            Method::SafetensorsMmap
            | Method::SafetensorsMmapPrefetch
            | Method::SafetensorsPread
            | Method::SafetensorsDirect
            | Method::SafetensorsRead
            | Method::SafetensorsLazyOne
            | Method::SafetensorsSlice => self.kind == Kind::Safetensors,
        }
    }
}

/// The files that hold tensors: a sharded checkpoint's index (`*.index.json`) is listed among its
/// files but holds none, and no load method reads it.
fn weight_files(ck: &checkpoint::Checkpoint) -> impl Iterator<Item = &checkpoint::FileEntry> {
    ck.files
        .iter()
        .filter(|f| !f.full_path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json")))
}

pub(super) fn open_local(path: &Path) -> Result<checkpoint::Checkpoint> {
    if path.to_str().is_some_and(crate::remote::is_remote) {
        return Err(crate::Error::Usage(format!(
            "{}: bench times loading local files; download the model first",
            crate::text::path(path)
        )));
    }
    let ck = checkpoint::open(path)?;
    // no loader here reads numpy files: timed as safetensors, they would be mislabelled
    if let Some(f) = ck.files.iter().find(|f| matches!(f.format, Format::Npy | Format::Npz)) {
        return Err(crate::Error::Usage(format!(
            "{}: bench times safetensors, torch.save and GGUF loads; {} is a numpy file ({}), which none of \
             them reads",
            crate::text::path(path),
            crate::text::path(&f.path),
            f.format.as_str()
        )));
    }
    Ok(ck)
}

/// One thing to time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    /// Index into the targets.
    pub target: usize,
    /// Method.
    pub method: Method,
    /// Device.
    pub device: Device,
    /// Cache state.
    pub cache: CacheState,
    /// Read every byte after loading.
    pub touched: bool,
    /// `(k, n)` for tensor-parallel cases.
    pub rank: Option<(u32, u32)>,
    /// Eager methods: fresh or reused owned memory.
    pub memory: Option<Memory>,
}

impl Case {
    /// A short label for progress displays.
    pub fn label(&self) -> String {
        let base = match self.rank {
            Some((k, n)) => format!("{} rank {k}/{n}", self.method.as_str()),
            None if self.touched => format!("{} touched", self.method.as_str()),
            None => self.method.as_str().to_owned(),
        };
        let base = match self.memory {
            Some(m) => format!("{base} {}", m.as_str()),
            None => base,
        };
        match self.device {
            Device::Cpu => base,
            Device::Gpu => format!("{base} to gpu"),
        }
    }
}

/// The strategies only measured on the CPU unless asked for by name.
const CPU_ONLY: [Method; 3] = [
    Method::SafetensorsPread,
    Method::SafetensorsDirect,
    Method::SafetensorsMmapPrefetch,
];

/// Every case of `config` over `targets`, grouped by method (untouched then touched; eager
/// methods into fresh then reused memory on the CPU, fresh on the GPU).
pub fn plan(config: &Config, targets: &[Target]) -> Vec<Case> {
    let wanted = |m: Method| config.methods.is_empty() || config.methods.contains(&m);
    let cache = if config.cold {
        CacheState::Cold
    } else {
        CacheState::Warm
    };
    let mut out = Vec::new();
    for &device in &config.devices {
        for method in Method::LOADS.into_iter().filter(|&m| wanted(m)) {
            if device == Device::Gpu && config.methods.is_empty() && CPU_ONLY.contains(&method) {
                continue;
            }
            let memories: &[Option<Memory>] = match (device, method.eager()) {
                (Device::Cpu, true) => &[Some(Memory::Fresh), Some(Memory::Reused)],
                (Device::Gpu, true) => &[Some(Memory::Fresh)],
                _ => &[None],
            };
            // The reference read has nothing to touch that it did not just write, and no GPU
            // counterpart; an upload reads every byte, so GPU rows have no touched twin.
            let touches: &[bool] = match (device, method) {
                (Device::Gpu, Method::FileRead) => &[],
                (Device::Gpu, _) | (_, Method::FileRead) => &[false],
                _ => &[false, true],
            };
            for &touched in touches {
                for &memory in memories {
                    for (target, t) in targets.iter().enumerate() {
                        if t.applies(method) {
                            out.push(Case {
                                target,
                                method,
                                device,
                                cache,
                                touched,
                                rank: None,
                                memory,
                            });
                        }
                    }
                }
            }
        }
        if config.ranks > 1 {
            for method in Method::SLICES.into_iter().filter(|&m| wanted(m)) {
                for k in 0..config.ranks {
                    for (target, t) in targets.iter().enumerate() {
                        if t.applies(method) {
                            out.push(Case {
                                target,
                                method,
                                device,
                                cache,
                                touched: device == Device::Cpu,
                                rank: Some((k, config.ranks)),
                                memory: None,
                            });
                        }
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(format: Format) -> Target {
        Target {
            root: "x".into(),
            format,
            files: vec!["x".into()],
            all_zip: format == Format::PytorchZip,
            bytes: 10,
            tensors: 1,
            kind: Kind::of(format),
            content: (1, 4),
        }
    }

    #[test]
    fn methods_follow_the_format() {
        let targets = [target(Format::Safetensors), target(Format::PytorchZip)];
        let cases = plan(&Config::new(vec![]), &targets);
        let names: Vec<String> = cases.iter().map(Case::label).collect();
        assert_eq!(
            names,
            [
                "safetensors-mmap",
                "safetensors-mmap touched",
                "safetensors-mmap-prefetch",
                "safetensors-mmap-prefetch touched",
                "safetensors-read fresh",
                "safetensors-read reused",
                "safetensors-read touched fresh",
                "safetensors-read touched reused",
                "safetensors-pread fresh",
                "safetensors-pread reused",
                "safetensors-pread touched fresh",
                "safetensors-pread touched reused",
                "safetensors-direct fresh",
                "safetensors-direct reused",
                "safetensors-direct touched fresh",
                "safetensors-direct touched reused",
                "safetensors-lazy-one",
                "safetensors-lazy-one touched",
                "pickle-eager fresh",
                "pickle-eager reused",
                "pickle-eager touched fresh",
                "pickle-eager touched reused",
                "pickle-mmap",
                "pickle-mmap touched",
                "file-read",
            ]
        );
        assert!(cases.iter().all(|c| c.method.is_pickle() == (c.target == 1)));
    }

    #[test]
    fn ranks_and_filters() {
        let targets = [target(Format::Safetensors), target(Format::PytorchLegacy)];
        let mut config = Config::new(vec![]);
        config.ranks = 2;
        config.cold = true;
        config.methods = vec![
            Method::PickleEager,
            Method::SafetensorsSlice,
            Method::PickleSlice,
            Method::PickleMmap,
        ];
        let cases = plan(&config, &targets);
        let names: Vec<String> = cases.iter().map(Case::label).collect();
        // legacy pickles cannot be mapped: no pickle-mmap rows
        assert_eq!(
            names,
            [
                "pickle-eager fresh",
                "pickle-eager reused",
                "pickle-eager touched fresh",
                "pickle-eager touched reused",
                "safetensors-slice rank 0/2",
                "safetensors-slice rank 1/2",
                "pickle-slice rank 0/2",
                "pickle-slice rank 1/2",
            ]
        );
        assert!(cases.iter().all(|c| c.cache == CacheState::Cold));
    }

    #[test]
    fn gpu_rows_upload_untouched_and_skip_the_reference_read() {
        let targets = [target(Format::Safetensors), target(Format::PytorchZip)];
        let mut config = Config::new(vec![]);
        config.devices = vec![Device::Gpu];
        config.ranks = 2;
        config.methods = vec![Method::SafetensorsMmap, Method::FileRead, Method::SafetensorsSlice];
        let names: Vec<String> = plan(&config, &targets).iter().map(Case::label).collect();
        assert_eq!(
            names,
            [
                "safetensors-mmap to gpu",
                "safetensors-slice rank 0/2 to gpu",
                "safetensors-slice rank 1/2 to gpu",
            ]
        );
        assert!(plan(&config, &targets).iter().all(|c| !c.touched));
    }
}
