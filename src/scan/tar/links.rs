//! Link members, as Python's `tarfile` resolves them. A hard link (type `1`) or symbolic link
//! (type `2`) has no data of its own: `extractfile` returns its target's data (`_find_link_target`,
//! followed through links to links), and `extract`, which torch's pre-0.4 reader calls for
//! `storages` and `tensors`, writes the target's data under the link's name when the target is not
//! on disk yet (or links to the file extracted before). So a link named `storages` is read as
//! `storages` with another member's bytes; torch never writes one.

use super::Member;

/// Most links followed from one member (symbolic links may form a loop, where Python raises).
const MAX_HOPS: usize = 16;

/// `os.path.normpath` of a POSIX path.
fn normpath(path: &str) -> String {
    if path.is_empty() {
        return ".".into();
    }
    let slashes = if path.starts_with("//") && !path.starts_with("///") {
        2
    } else {
        usize::from(path.starts_with('/'))
    };
    let mut parts: Vec<&str> = Vec::new();
    for p in path.split('/') {
        match p {
            "" | "." => {}
            ".." if slashes == 0 && parts.last().is_none_or(|l| *l == "..") => parts.push(p),
            ".." => {
                parts.pop();
            }
            _ => parts.push(p),
        }
    }
    let joined = format!("{}{}", "/".repeat(slashes), parts.join("/"));
    if joined.is_empty() { ".".into() } else { joined }
}

/// `os.path.dirname`.
fn dirname(path: &str) -> &str {
    let head = &path[..path.rfind('/').map_or(0, |i| i + 1)];
    if !head.is_empty() && head.bytes().any(|b| b != b'/') {
        head.trim_end_matches('/')
    } else {
        head
    }
}

/// The last member of `list[..end]` whose normalised name is `name`.
fn last_named(list: &[Member], end: usize, name: &str) -> Option<usize> {
    let want = normpath(name);
    list[..end].iter().rposition(|m| normpath(&m.name) == want)
}

/// The members whose data a reader may get for link member `i`: `_find_link_target` (a hard link
/// looks among the members before it, a symbolic link among all, relative to its folder), and for
/// a hard link also the last member of the target's name, which `extract` links to when it is
/// already on disk. Links to links are followed. Empty when nothing resolves (tarfile raises).
/// The second value says whether the chain was longer than [`MAX_HOPS`].
pub(super) fn targets(list: &[Member], i: usize) -> (Vec<usize>, bool) {
    let mut out = Vec::new();
    let mut work = vec![(i, 0usize)];
    let mut seen = std::collections::HashSet::new();
    let mut too_deep = false;
    while let Some((j, hops)) = work.pop() {
        let Some((target, symbolic)) = &list[j].link else {
            if !out.contains(&j) {
                out.push(j);
            }
            continue;
        };
        if !seen.insert(j) {
            continue;
        }
        if hops >= MAX_HOPS {
            too_deep = true;
            continue;
        }
        let found = if *symbolic {
            let dir = dirname(&list[j].name);
            let name = [dir, target.as_str()]
                .iter()
                .filter(|p| !p.is_empty())
                .copied()
                .collect::<Vec<_>>()
                .join("/");
            vec![last_named(list, list.len(), &name)]
        } else {
            vec![last_named(list, j, target), last_named(list, list.len(), target)]
        };
        for k in found.into_iter().flatten() {
            work.push((k, hops + 1));
        }
    }
    (out, too_deep)
}

/// Whether link member `name`'s `target`, made on disk by `extract` (a symbolic link from the
/// member's folder, a hard link from the extraction folder), points outside the folder torch
/// extracts to: an absolute path or one that `..` climbs out of.
pub(super) fn leaves_folder(name: &str, target: &str) -> bool {
    if target.starts_with('/') {
        return true;
    }
    let p = normpath(
        &[dirname(name), target]
            .iter()
            .filter(|p| !p.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join("/"),
    );
    p == ".." || p.starts_with("../")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(name: &str, link: Option<(&str, bool)>) -> Member {
        Member {
            name: name.into(),
            offset: 0,
            size: 0,
            sparse: false,
            link: link.map(|(t, s)| (t.into(), s)),
        }
    }

    #[test]
    fn paths_normalise_as_python_does() {
        assert_eq!(normpath("a/./b//c/../d"), "a/b/d");
        assert_eq!(normpath("../x"), "../x");
        assert_eq!(normpath("/../x"), "/x");
        assert_eq!(normpath("//x/"), "//x");
        assert_eq!(normpath(""), ".");
        assert_eq!(dirname("a/b/c"), "a/b");
        assert_eq!(dirname("c"), "");
        assert_eq!(dirname("/c"), "/");
        assert!(leaves_folder("storages", "/proc/self/fd/3"));
        assert!(leaves_folder("storages", "../../proc/self/fd/3"));
        assert!(leaves_folder("d/storages", "../../x"));
        assert!(!leaves_folder("d/storages", "../x"));
        assert!(!leaves_folder("storages", "tensors"));
    }

    #[test]
    fn links_resolve_as_tarfile_resolves_them() {
        // a hard link looks back; a symbolic one anywhere, from its own folder; chains are followed
        let list = [
            m("x", None),
            m("storages", Some(("./x", false))),
            m("d/tensors", Some(("../storages", true))),
            m("pickle", Some(("loop", true))),
            m("loop", Some(("pickle", true))),
            m("later", Some(("y", false))),
            m("y", None),
        ];
        assert_eq!(targets(&list, 1).0, [0]);
        assert_eq!(targets(&list, 2).0, [0]);
        assert!(targets(&list, 3).0.is_empty());
        // `y` comes after the hard link: only `extract`'s on-disk link reaches it
        assert_eq!(targets(&list, 5).0, [6]);
    }
}
