//! Single `.safetensors` files.
