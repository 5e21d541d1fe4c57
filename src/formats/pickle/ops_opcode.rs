//! The opcode table of protocols 0 to 5: byte, name and the protocol that introduced each.

use std::fmt;

macro_rules! opcodes {
    ($($name:ident = $byte:expr, $text:literal, $proto:literal;)*) => {
        /// A pickle opcode.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[repr(u8)]
        pub enum Opcode {
            $(
                #[doc = concat!("`", $text, "` (protocol ", $proto, ")")]
                $name = $byte,
            )*
        }

        impl Opcode {
            /// The opcode for a byte, `None` when no protocol defines it.
            pub fn from_byte(b: u8) -> Option<Opcode> {
                match b {
                    $($byte => Some(Opcode::$name),)*
                    _ => None,
                }
            }

            /// Python's name for the opcode (`BINUNICODE`).
            pub fn name(self) -> &'static str {
                match self {
                    $(Opcode::$name => $text,)*
                }
            }

            /// The protocol that introduced the opcode.
            pub fn protocol(self) -> u8 {
                match self {
                    $(Opcode::$name => $proto,)*
                }
            }
        }
    };
}

opcodes! {
    Mark = b'(', "MARK", 0;
    Stop = b'.', "STOP", 0;
    Pop = b'0', "POP", 0;
    PopMark = b'1', "POP_MARK", 1;
    Dup = b'2', "DUP", 0;
    Float = b'F', "FLOAT", 0;
    Int = b'I', "INT", 0;
    BinInt = b'J', "BININT", 1;
    BinInt1 = b'K', "BININT1", 1;
    Long = b'L', "LONG", 0;
    BinInt2 = b'M', "BININT2", 1;
    None = b'N', "NONE", 0;
    PersId = b'P', "PERSID", 0;
    BinPersId = b'Q', "BINPERSID", 1;
    Reduce = b'R', "REDUCE", 0;
    String = b'S', "STRING", 0;
    BinString = b'T', "BINSTRING", 1;
    ShortBinString = b'U', "SHORT_BINSTRING", 1;
    Unicode = b'V', "UNICODE", 0;
    BinUnicode = b'X', "BINUNICODE", 1;
    Append = b'a', "APPEND", 0;
    Build = b'b', "BUILD", 0;
    Global = b'c', "GLOBAL", 0;
    Dict = b'd', "DICT", 0;
    EmptyDict = b'}', "EMPTY_DICT", 1;
    Appends = b'e', "APPENDS", 1;
    Get = b'g', "GET", 0;
    BinGet = b'h', "BINGET", 1;
    Inst = b'i', "INST", 0;
    LongBinGet = b'j', "LONG_BINGET", 1;
    List = b'l', "LIST", 0;
    EmptyList = b']', "EMPTY_LIST", 1;
    Obj = b'o', "OBJ", 1;
    Put = b'p', "PUT", 0;
    BinPut = b'q', "BINPUT", 1;
    LongBinPut = b'r', "LONG_BINPUT", 1;
    SetItem = b's', "SETITEM", 0;
    Tuple = b't', "TUPLE", 0;
    EmptyTuple = b')', "EMPTY_TUPLE", 1;
    SetItems = b'u', "SETITEMS", 1;
    BinFloat = b'G', "BINFLOAT", 1;
    Proto = 0x80, "PROTO", 2;
    NewObj = 0x81, "NEWOBJ", 2;
    Ext1 = 0x82, "EXT1", 2;
    Ext2 = 0x83, "EXT2", 2;
    Ext4 = 0x84, "EXT4", 2;
    Tuple1 = 0x85, "TUPLE1", 2;
    Tuple2 = 0x86, "TUPLE2", 2;
    Tuple3 = 0x87, "TUPLE3", 2;
    NewTrue = 0x88, "NEWTRUE", 2;
    NewFalse = 0x89, "NEWFALSE", 2;
    Long1 = 0x8a, "LONG1", 2;
    Long4 = 0x8b, "LONG4", 2;
    BinBytes = b'B', "BINBYTES", 3;
    ShortBinBytes = b'C', "SHORT_BINBYTES", 3;
    ShortBinUnicode = 0x8c, "SHORT_BINUNICODE", 4;
    BinUnicode8 = 0x8d, "BINUNICODE8", 4;
    BinBytes8 = 0x8e, "BINBYTES8", 4;
    EmptySet = 0x8f, "EMPTY_SET", 4;
    AddItems = 0x90, "ADDITEMS", 4;
    FrozenSet = 0x91, "FROZENSET", 4;
    NewObjEx = 0x92, "NEWOBJ_EX", 4;
    StackGlobal = 0x93, "STACK_GLOBAL", 4;
    Memoize = 0x94, "MEMOIZE", 4;
    Frame = 0x95, "FRAME", 4;
    ByteArray8 = 0x96, "BYTEARRAY8", 5;
    NextBuffer = 0x97, "NEXT_BUFFER", 5;
    ReadonlyBuffer = 0x98, "READONLY_BUFFER", 5;
}

impl fmt::Display for Opcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
