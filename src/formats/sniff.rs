//! Format detection from the first bytes of a file, never from its name. Also recognises the usual
//! impostors (a Git LFS pointer, an HTML error page, a tar archive) so errors can say what a file is.

/// What the first bytes of a file look like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// 8-byte little-endian length followed by `{`.
    Safetensors,
    /// A zip archive (`PK\x03\x04`, or `PK\x05\x06` for an empty one): torch zip or numpy `.npz`.
    Zip,
    /// A pickle stream (`\x80` PROTO with protocol 2 to 5): legacy torch or a raw pickle.
    Pickle,
    /// numpy `.npy` (`\x93NUMPY`).
    Npy,
    /// GGUF (llama.cpp), `GGUF` magic.
    Gguf,
    /// A Git LFS pointer file: the real weights were never downloaded.
    GitLfsPointer,
    /// An HTML page (a login or error page saved instead of the file).
    Html,
    /// A tar archive: the torch format before 1.6's legacy one.
    Tar,
    /// Nothing known.
    Unknown,
}

/// Bytes [`detect`] wants to see (the tar magic sits at offset 257).
pub const SNIFF_LEN: usize = 512;

/// Classify a file from its first bytes (pass at least [`SNIFF_LEN`] when the file has them).
pub fn detect(head: &[u8]) -> Kind {
    if head.starts_with(b"version https://git-lfs") {
        return Kind::GitLfsPointer;
    }
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        return Kind::Zip;
    }
    if head.starts_with(b"\x93NUMPY") {
        return Kind::Npy;
    }
    if head.starts_with(b"GGUF") {
        return Kind::Gguf;
    }
    // before the pickle test: a header length such as 0x0380 also starts with the bytes of PROTO 3
    if head.len() >= 9 && head[8] == b'{' {
        return Kind::Safetensors;
    }
    if head.len() >= 2 && head[0] == 0x80 && (2..=5).contains(&head[1]) {
        return Kind::Pickle;
    }
    if head.len() > 262 && &head[257..262] == b"ustar" {
        return Kind::Tar;
    }
    let text = String::from_utf8_lossy(&head[..head.len().min(256)]).to_ascii_lowercase();
    let t = text.trim_start_matches('\u{feff}').trim_start();
    if t.starts_with("<!doctype html") || t.starts_with("<html") || t.starts_with("<?xml") || t.starts_with("<head") {
        return Kind::Html;
    }
    // protocol 0/1 pickles have no PROTO opcode; a raw pickle that starts with a mark or a dict opcode
    if matches!(head.first(), Some(b'(' | b'}' | b']' | b'c')) && head.last() == Some(&b'.') {
        return Kind::Pickle;
    }
    Kind::Unknown
}

/// What to tell a user who gave `kind` where a safetensors file was expected.
pub fn impostor_hint(kind: Kind) -> Option<&'static str> {
    Some(match kind {
        Kind::GitLfsPointer => {
            "this is a Git LFS pointer, not the weights: run `git lfs pull` or download the file itself"
        }
        Kind::Html => "this is an HTML page, not weights: the download probably needed a login or hit an error page",
        Kind::Zip => "this is a zip archive (a torch.save file or .npz renamed), not safetensors",
        Kind::Pickle => "this is a Python pickle (a torch.save file renamed), not safetensors",
        Kind::Tar => "this is a tar archive (the torch format before 1.6), not supported",
        Kind::Npy => "this is a numpy .npy file, not safetensors",
        Kind::Gguf => "this is a GGUF file (llama.cpp), not safetensors",
        Kind::Safetensors | Kind::Unknown => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_each_kind() {
        assert_eq!(
            detect(b"version https://git-lfs.github.com/spec/v1\noid sha256:abc\n"),
            Kind::GitLfsPointer
        );
        assert_eq!(detect(b"PK\x03\x04rest"), Kind::Zip);
        assert_eq!(detect(b"\x80\x02\x8a\x0a"), Kind::Pickle);
        assert_eq!(detect(b"\x93NUMPY\x01\x00"), Kind::Npy);
        assert_eq!(detect(b"\x10\0\0\0\0\0\0\0{\"a\":1}"), Kind::Safetensors);
        assert_eq!(detect(b"  <!DOCTYPE html><html>"), Kind::Html);
        assert_eq!(detect(b"hello"), Kind::Unknown);
        assert_eq!(detect(b"GGUF\x03\0\0\0"), Kind::Gguf);
        assert_eq!(detect(b"\x80\x03\0\0\0\0\0\0{\"a\":1}"), Kind::Safetensors);
        let mut tar = vec![0u8; 512];
        tar[257..262].copy_from_slice(b"ustar");
        assert_eq!(detect(&tar), Kind::Tar);
    }
}
