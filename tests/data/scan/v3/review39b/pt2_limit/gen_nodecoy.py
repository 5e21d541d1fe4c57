# same as gen.py, without the decoy base/data.pkl: sample_inputs/model.pt is probed as a zip member
import zipfile, os
here = os.path.dirname(os.path.abspath(__file__))
for tag in ["nones", "marks"]:
    nested = open(os.path.join(here, f"raw_{tag}.pkl"), "rb").read().replace(b"pwned_pt2_", b"pwned_pt2nd_")
    zin = zipfile.ZipFile(os.path.join(here, "base.pt2"))
    with zipfile.ZipFile(os.path.join(here, f"pt2nd_{tag}.pt2"), "w") as zo:
        for i in zin.infolist():
            d = zin.read(i.filename)
            if i.filename.endswith("sample_inputs/model.pt"):
                d = nested
            zo.writestr(i, d)
