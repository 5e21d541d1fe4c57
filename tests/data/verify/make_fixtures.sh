#!/usr/bin/env bash
# Regenerate the OMS fixtures of tests/cli_verify.rs with the OpenSSF reference tool, and check that
# `tensorscope sign` bundles verify with it. Needs python3 and openssl; run from the repository root:
#
#   python3 -m venv /tmp/msvenv && /tmp/msvenv/bin/pip install model-signing pyopenssl
#   MS=/tmp/msvenv/bin PATH_TO_TENSORSCOPE=target/debug/tensorscope tests/data/verify/make_fixtures.sh
#
# What it writes under tests/data/verify/:
#   keys/{p256,p384,p521,other}.{key,pub}   throwaway test keys (never use them for anything else)
#   ref-p256/          a folder signed by `model_signing sign key` (files serialization), model.sig inside
#   ref-p521-shards/   a folder signed through the Python API with the shards serialization (shard 4 kB)
#   ref-p256-blake2b/  a folder signed through the Python API with BLAKE2b digests
#   ref-p384-single.bin + ref-p384-single.sig   one file signed on its own
#   certs/             throwaway CA hierarchies made by make_certs.py (see its docstring)
#   cert-*/            small folders signed by `model_signing sign certificate`, one per leaf of certs/:
#                      valid (P-256 leaf), p521, expired, future, keyagree (no digitalSignature, no
#                      codeSigning), under-not-ca (intermediate without CA:TRUE), forged (a hierarchy
#                      with the same names as root/int but other keys), critical (an unknown critical
#                      extension), pathlen (a sub-intermediate below int, whose pathlen is 0)
#   certs/REFERENCE.txt   what `model_signing verify certificate --certificate_chain certs/root.pem`
#                      says of each (exit code, last line), for the tests to compare with
# Tampered variants (changed byte, extra file, missing file, wrong key) are made by the tests in a
# temporary copy, so the signed folders stay exactly as the reference tool left them.
set -euo pipefail
MS=${MS:-/tmp/msvenv/bin}
TS=$(realpath "${PATH_TO_TENSORSCOPE:-target/debug/tensorscope}")
cd "$(dirname "$0")"

mkdir -p keys
for c in p256:prime256v1 p384:secp384r1 p521:secp521r1 other:prime256v1; do
  n=${c%%:*}; curve=${c#*:}
  [ -f keys/$n.key ] || openssl ecparam -name "$curve" -genkey -noout -out keys/$n.key
  openssl ec -in keys/$n.key -pubout -out keys/$n.pub 2>/dev/null
done

# a small model: a header-only safetensors file, a config, a nested tokenizer file, an empty file
make_model() {
  rm -rf "$1"; mkdir -p "$1/tokenizer"
  python3 - "$1" <<'EOF'
import json, struct, sys
d = sys.argv[1]
header = json.dumps({"w": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}}).encode()
with open(f"{d}/model.safetensors", "wb") as f:
    f.write(struct.pack("<Q", len(header)) + header + bytes(range(24)))
json.dump({"architectures": ["Tiny"], "hidden_size": 3}, open(f"{d}/config.json", "w"))
open(f"{d}/tokenizer/vocab.txt", "w").write("a\nb\nc\n" * 2000)  # 12 kB: three 4 kB shards
open(f"{d}/empty.txt", "w").close()
EOF
}

make_model ref-p256
"$MS/model_signing" sign key --private_key keys/p256.key --signature ref-p256/model.sig ref-p256

make_model ref-p521-shards
"$MS/python" - <<'EOF'
import os
from model_signing import hashing, signing
cfg = signing.Config().use_elliptic_key_signer(private_key="keys/p521.key")
cfg.set_hashing_config(hashing.Config().use_shard_serialization(shard_size=4096).set_ignored_paths(
    paths=[os.path.abspath("ref-p521-shards/model.sig")], ignore_git_paths=True))
cfg.sign("ref-p521-shards", "ref-p521-shards/model.sig")
EOF

# BLAKE2b through the API (the reference's own verifier then refuses its hash_type "blake2b":
# model_signing 1.1.1 only maps "blake2" back to a hasher, so this one is checked by tensorscope only)
rm -rf ref-p256-blake2b; mkdir ref-p256-blake2b
printf 'weights\n' > ref-p256-blake2b/a.bin; printf 'config\n' > ref-p256-blake2b/b.json
"$MS/python" - <<'EOF'
import os
from model_signing import hashing, signing
cfg = signing.Config().use_elliptic_key_signer(private_key="keys/p256.key")
cfg.set_hashing_config(hashing.Config().use_file_serialization(hashing_algorithm="blake2").set_ignored_paths(
    paths=[os.path.abspath("ref-p256-blake2b/model.sig")], ignore_git_paths=True))
cfg.sign("ref-p256-blake2b", "ref-p256-blake2b/model.sig")
EOF

printf 'one file, signed alone\n' > ref-p384-single.bin
"$MS/model_signing" sign key --private_key keys/p384.key --signature ref-p384-single.sig ref-p384-single.bin

# certificate method: one small folder per leaf, signed by the reference tool with the leaf's key,
# the bundle carrying the leaf and its issuing intermediate (not the root), as upstream's vectors do
"$MS/python" make_certs.py certs
: > certs/REFERENCE.txt
for c in valid:leaf:int p521:leaf-p521:int expired:leaf-expired:int future:leaf-future:int \
         keyagree:leaf-keyagree:int under-not-ca:leaf-under-not-ca:int-not-ca forged:leaf-forged:forged-int \
         critical:leaf-critical:int pathlen:leaf-under-sub:sub-int+int; do
  IFS=: read -r name leaf int <<< "$c"
  rm -rf cert-$name; mkdir cert-$name
  printf 'weights of %s\n' "$name" > cert-$name/weights.bin
  printf '{"model": "%s"}\n' "$name" > cert-$name/config.json
  chain=()
  for i in ${int//+/ }; do chain+=(--certificate_chain "certs/$i.pem"); done
  "$MS/model_signing" sign certificate --private_key certs/$leaf.key --signing_certificate certs/$leaf.pem \
    "${chain[@]}" --signature cert-$name/model.sig cert-$name
  set +e
  out=$("$MS/model_signing" verify certificate --certificate_chain certs/root.pem \
    --signature cert-$name/model.sig cert-$name 2>&1)
  rc=$?
  set -e
  printf '%s\t%s\t%s\n' "cert-$name" "$rc" "$(printf '%s' "$out" | tail -n 1 | cut -c1-200)" >> certs/REFERENCE.txt
done
cat certs/REFERENCE.txt

# every reference signature verifies with the reference verifier. Its CLI always hashes whole files,
# and its API fails on shards bundles (model_signing 1.1.1: protobuf's Struct turns shard_size into
# the float 4096.0 and range() rejects it), so shards bundles are checked by tensorscope's tests only.
"$MS/model_signing" verify key --public_key keys/p256.pub --signature ref-p256/model.sig ref-p256
"$MS/model_signing" verify key --public_key keys/p384.pub --signature ref-p384-single.sig ref-p384-single.bin

# `tensorscope sign` output verifies with the reference verifier, on every curve and both methods
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
for n in p256 p384 p521; do
  make_model "$tmp/$n"
  "$TS" sign "$tmp/$n" --private-key keys/$n.key
  "$MS/model_signing" verify key --public_key keys/$n.pub --signature "$tmp/$n/model.sig" "$tmp/$n"
  make_model "$tmp/$n-shards"
  "$TS" sign "$tmp/$n-shards" --private-key keys/$n.key --shard-size 4096
  "$TS" verify "$tmp/$n-shards" --public-key keys/$n.pub
done
# `tensorscope sign --certificate` bundles verify with the reference's certificate verifier
for leaf in leaf leaf-p521; do
  rm -rf "$tmp/cert-$leaf"; mkdir "$tmp/cert-$leaf"
  printf 'weights\n' > "$tmp/cert-$leaf/weights.bin"
  "$TS" sign "$tmp/cert-$leaf" --private-key certs/$leaf.key --certificate certs/$leaf.pem --certificate-chain certs/int.pem
  "$MS/model_signing" verify certificate --certificate_chain certs/root.pem --signature "$tmp/cert-$leaf/model.sig" "$tmp/cert-$leaf"
  "$TS" verify "$tmp/cert-$leaf" --certificate-chain certs/root.pem
done
"$TS" sign ref-p384-single.bin --private-key keys/p384.key --signature "$tmp/single.sig"
"$MS/model_signing" verify key --public_key keys/p384.pub --signature "$tmp/single.sig" ref-p384-single.bin
echo "all reference checks passed"
