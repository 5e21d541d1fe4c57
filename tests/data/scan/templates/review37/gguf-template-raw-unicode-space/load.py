# Real loader: llama-cpp-python 0.2.71 (before the CVE-2024-34359 fix, which renders GGUF chat
# templates with an unsandboxed jinja2.Environment), built from PyPI into /tmp/r37b/llcpp.
import os, sys
sys.path.insert(0, "/tmp/r37b/llcpp")
m = "/tmp/r37b/pwned-gguf-template-raw-unicode-space"
os.path.exists(m) and os.remove(m)
from llama_cpp import Llama
llm = Llama(model_path=os.path.join(os.path.dirname(os.path.abspath(__file__)), "tiny-chat.gguf"), n_ctx=64, verbose=False)
llm.create_chat_completion(messages=[{"role": "user", "content": "hi"}], max_tokens=1)
print("marker exists:", os.path.exists(m))
