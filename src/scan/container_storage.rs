//! Zip entries that an archive's own pickle loads as raw storages (`FOLDER/data/KEY`), and how they
//! are scanned anyway: other loaders open some of them as files or pickles.

use std::collections::HashSet;

use super::{Collector, MAX_INFLATE, Mode, Value, nested_file, python_end, walk, zip};

/// The entries that the archive's pickles load as raw storages: `FOLDER/data/KEY` for every
/// `('storage', type, KEY, …)` persistent id of a `FOLDER/data.pkl` (walked here once more; the
/// walk is cheap next to inflating).
pub(super) fn referenced_storages(data: &[u8], entries: &[zip::Entry]) -> HashSet<String> {
    let mut out = HashSet::new();
    for e in entries {
        let Some(folder) = e.name.strip_suffix("data.pkl") else {
            continue;
        };
        let Ok(content) = zip::content(data, e, MAX_INFLATE) else {
            continue;
        };
        let s = walk::walk_stream(&content, Mode::Strict);
        for pid in s.pickles.iter().flat_map(|p| p.persistent_ids.iter()) {
            let Value::Tuple(t) = pid else { continue };
            if let (Some(Value::Str(kind)), Some(Value::Str(key))) = (t.first(), t.get(2))
                && kind.as_ref() == "storage"
            {
                out.insert(format!("{folder}data/{key}"));
            }
        }
    }
    out
}

/// The scan of a storage entry `name` (`content`) of an archive labelled `label`.
pub(super) fn storage_entry(c: &mut Collector, label: &str, name: &str, content: &[u8]) {
    // raw tensor data the archive's pickle loads as a storage: no loader unpickles it. But
    // a whole zip archive there (a zip's start and end records) is what another loader may
    // open as a file: a decoy `data.pkl` can name a .pt2's nested torch.save file a storage
    let whole_zip = content.starts_with(b"PK\x03\x04") && python_end(content).is_some();
    if let Some(nested) = nested_file(label, name, content).filter(|_| whole_zip) {
        c.absorb(name, nested);
    } else {
        // and a raw pickle there is what torch.export.load hands to torch.load's legacy
        // reader (a `sample_inputs/*.pt` named a storage by a decoy): probed as one, which
        // costs a few opcodes on real tensor data (it stops at the first that cannot be),
        // and reported when it names a global (tensor bytes may well read as EXT1 or as a
        // million NONEs, which import nothing), or when a limit of the walk stopped it with
        // anything but more of the same byte after that point (the walk cannot see past a
        // million NONEs; torch.load reads on to what follows them)
        let s = walk::walk_stream(content, Mode::Probe);
        let hidden = s.errors.iter().any(|e| {
            let rest = content.get(e.offset..).unwrap_or_default();
            walk::is_limit(&e.msg) && rest.iter().any(|&b| b != rest[0])
        });
        if hidden || s.globals().any(|g| g.how != walk::How::Extension) {
            c.stream(name, 0, &s);
            c.plain_if_joblib(name, 0, content, s.globals());
        }
    }
}
