//! What a walk records: the pickles of a stream, the globals they name, the hazards they carry and
//! what stopped them short.

use super::value::Value;

/// How a global was named.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum How {
    /// GLOBAL: `module\nname\n` in the stream.
    Global,
    /// INST: like GLOBAL, then called.
    Inst,
    /// STACK_GLOBAL with both names resolved from the stack.
    StackGlobal,
    /// STACK_GLOBAL whose module or name (or both) only exists at load time (`?` stands in).
    Unresolved,
    /// EXT1/EXT2/EXT4: a global from the copyreg extension registry, unknown until load time.
    Extension,
}

/// A global named by the stream.
#[derive(Debug, Clone, PartialEq)]
pub struct GlobalRef {
    /// The module (`?` when unresolved).
    pub module: String,
    /// The name (`?` when unresolved; the extension code for EXT opcodes).
    pub name: String,
    /// Offset of the opcode, relative to the scanned bytes.
    pub offset: usize,
    /// How it was named.
    pub how: How,
    /// Found in a pickle nested inside a bytes or string argument.
    pub nested: bool,
    /// The module or the name was longer than [`super::MAX_NAME`] bytes and is kept cut: the part
    /// past the cut (an attribute path can reach anything at its end) was never checked.
    pub cut: bool,
}

/// One pickle of the stream.
#[derive(Debug, Clone, PartialEq)]
pub struct PickleInfo<'a> {
    /// Offset of its first opcode.
    pub start: usize,
    /// Offset just past its last decoded byte (past STOP when complete).
    pub end: usize,
    /// Protocol from PROTO (0 when absent).
    pub protocol: u8,
    /// Whether it reached STOP without an error.
    pub complete: bool,
    /// The value it ends with (`Unknown` when incomplete).
    pub result: Value<'a>,
    /// Persistent ids it loads (PERSID text or BINPERSID values), at most [`MAX_ITEMS`](super::MAX_ITEMS).
    pub persistent_ids: Vec<Value<'a>>,
    /// Globals it names, in stream order.
    pub globals: Vec<GlobalRef>,
    /// Harm done with allowlisted globals (a BUILD on a class, a hostile dtype state, a huge
    /// allocation), in stream order.
    pub hazards: Vec<Hazard>,
    /// Where the FRAME holding its STOP ends, when that is past [`PickleInfo::end`]: CPython's C
    /// unpickler reads a frame with one `read()` (always from an `io.BytesIO`, which has no `peek`;
    /// from a buffered file from `open()` when the frame is 8192 bytes or more, or more than the
    /// file's buffer holds), and then the next `pickle.load` starts there; else right after STOP.
    pub frame_end: Option<usize>,
    /// Other places where the next pickle may start, for the C unpickler reading frames it read
    /// whole ([`crate::formats::pickle::ops::FrameBuffer`]): after STOP and at the end of the frame
    /// holding it in that reading, when an argument ran past a frame's end; and the end of an
    /// outer frame holding STOP.
    pub other_ends: Vec<usize>,
}

impl PickleInfo<'_> {
    /// Every place where a reader may start the next pickle: right after STOP, then
    /// [`PickleInfo::frame_end`] and [`PickleInfo::other_ends`].
    pub fn next_starts(&self) -> Vec<usize> {
        let mut v = vec![self.end];
        for e in self.frame_end.iter().chain(&self.other_ends) {
            if !v.contains(e) {
                v.push(*e);
            }
        }
        v
    }
}

/// Harm a pickle does with globals that are themselves allowlisted.
#[derive(Debug, Clone, PartialEq)]
pub struct Hazard {
    /// Offset of the opcode.
    pub offset: usize,
    /// The global involved, as `module.name`.
    pub global: String,
    /// Dangerous (known harm) or suspicious (unchecked).
    pub dangerous: bool,
    /// Why, in a few words.
    pub why: String,
}

/// What stopped a pickle short.
#[derive(Debug, Clone, PartialEq)]
pub struct WalkError {
    /// Offset of the opcode that failed.
    pub offset: usize,
    /// One line.
    pub msg: String,
}
