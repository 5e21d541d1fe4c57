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
    /// Where the FRAME holding its STOP ends, when that is past [`PickleInfo::end`]: CPython's
    /// unpickler reads whole frames, so on an `io.BytesIO` (no `peek`) the next `pickle.load`
    /// starts there; on a buffered file from `open()` it starts right after STOP.
    pub frame_end: Option<usize>,
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
