"""The page cache for the side-by-side scripts (compare.py, loaders.py): drop a file's pages before a
cold run, and count how many are resident (util-linux's fincore)."""
import os
import subprocess


def drop(path):
    """Write back and drop `path`'s pages from the page cache (posix_fadvise DONTNEED)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fdatasync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def resident(path):
    """Bytes of `path` in the page cache (fincore), or None."""
    try:
        out = subprocess.run(["fincore", "--bytes", "--noheadings", "--output", "RES", path],
                             capture_output=True, text=True, check=True).stdout
        return int(out.split()[0])
    except Exception:  # noqa: BLE001
        return None
