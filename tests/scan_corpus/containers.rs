//! Malicious containers: legacy torch files, zip archives (torch and npz), numpy object arrays.

use super::pickles::case;
use super::*;

/// Payloads hidden in containers and in the oddities of their formats.
pub fn container_cases() -> Vec<Case> {
    let d = true;
    let s = false;
    vec![
        // legacy torch
        case(
            "legacy magic number computed by eval",
            "legacy_eval.pt",
            legacy(
                b"c__builtin__\neval\n(S'0x1950a86a20f9469cfc6c'\ntR.",
                &torch_data_pkl(),
            ),
            Some("__builtin__.eval"),
            d,
        ),
        case(
            "legacy object pickle with a payload",
            "legacy_obj.pt",
            legacy(&legacy_magic(), &evil()),
            Some("posix.system"),
            d,
        ),
        case(
            "legacy file with a pickle after the storage data",
            "legacy_tail.pt",
            [legacy(&legacy_magic(), &torch_data_pkl()), evil()].concat(),
            Some("posix.system"),
            d,
        ),
        // zip containers
        case(
            "torch zip with a payload in data.pkl",
            "zip.pt",
            torch_zip(&evil()),
            Some("posix.system"),
            d,
        ),
        case(
            "second pickle in a zip",
            "zip2.pt",
            zip(&[
                z("archive/data.pkl", &torch_data_pkl()),
                z("archive/data/0", &[0; 8]),
                z("archive/extra.pkl", &evil()),
            ]),
            Some("posix.system"),
            d,
        ),
        // a storage that data.pkl loads is raw data no loader unpickles (issue 23); an entry that
        // nothing loads as a storage is probed as a pickle
        case(
            "pickle in an entry no pickle loads as a storage",
            "zipstorage.pt",
            zip(&[
                z("archive/data.pkl", &torch_data_pkl()),
                z("archive/data/0", &[0; 8]),
                z("archive/data/1", &evil()),
            ]),
            Some("posix.system"),
            d,
        ),
        case(
            "duplicate data.pkl, the first malicious",
            "dup.pt",
            zip(&[
                z("archive/data.pkl", &evil()),
                z("archive/data.pkl", &torch_data_pkl()),
                z("archive/data/0", &[0; 8]),
            ]),
            Some("posix.system"),
            d,
        ),
        case(
            "local/central name mismatch",
            "mismatch.pt",
            zip(&[
                Z {
                    local_name: "archive/innocent.txt".into(),
                    ..z("archive/data.pkl", &evil())
                },
                z("archive/data/0", &[0; 8]),
            ]),
            Some("posix.system"),
            d,
        ),
        case(
            "local/central name mismatch alone",
            "mismatch_only.pt",
            zip(&[
                Z {
                    local_name: "archive/xata.pkl".into(),
                    ..z("archive/data.pkl", &torch_data_pkl())
                },
                z("archive/data/0", &[0; 8]),
            ]),
            None,
            s,
        ),
        case(
            "flag bit 0 (encrypted) on data.pkl",
            "flag.pt",
            zip(&[
                Z {
                    flags: 1,
                    ..z("archive/data.pkl", &evil())
                },
                z("archive/data/0", &[0; 8]),
            ]),
            Some("posix.system"),
            d,
        ),
        case(
            "flag bit 3 and 11 on data.pkl",
            "flag8.pt",
            zip(&[
                Z {
                    flags: 0x808,
                    ..z("archive/data.pkl", &evil())
                },
                z("archive/data/0", &[0; 8]),
            ]),
            Some("posix.system"),
            d,
        ),
        case(
            "bad CRC on data.pkl",
            "crc.pt",
            zip(&[
                Z {
                    bad_crc: true,
                    ..z("archive/data.pkl", &evil())
                },
                z("archive/data/0", &[0; 8]),
            ]),
            Some("posix.system"),
            d,
        ),
        case(
            "deflated data.pkl",
            "deflate.pt",
            zip(&[
                Z {
                    deflate: true,
                    ..z("archive/data.pkl", &evil())
                },
                z("archive/data/0", &[0; 8]),
            ]),
            Some("posix.system"),
            d,
        ),
        // numpy
        case(
            "npy object array",
            "obj.npy",
            npy_object(&evil()),
            Some("posix.system"),
            d,
        ),
        case(
            "npz with an object array",
            "obj.npz",
            zip(&[z("a.npy", &npy_object(&call("subprocess", "run")))]),
            Some("subprocess.run"),
            d,
        ),
    ]
}
