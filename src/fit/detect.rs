//! `--device auto`: the GPUs wgpu sees, with their memory where the driver says it (`nvidia-smi`),
//! and the host's available memory (sysinfo).

use super::Device;

/// The detected devices (GPUs first, then the host) and what could not be used, in words.
pub fn detect() -> (Vec<Device>, Vec<String>) {
    let mut devices = Vec::new();
    let mut notes = Vec::new();
    let adapters: Vec<_> = crate::bench::gpu::adapters()
        .into_iter()
        .filter(|a| a.device_type != "Cpu")
        .collect();
    let mut nvidia = nvidia_memory().into_iter();
    for a in adapters {
        let mem = a
            .name
            .to_ascii_lowercase()
            .contains("nvidia")
            .then(|| nvidia.next())
            .flatten();
        match mem {
            Some(bytes) => {
                let name = format!("gpu{}", devices.len());
                notes.push(format!(
                    "auto: {name} is {} ({} from nvidia-smi)",
                    a.name,
                    crate::text::bytes(bytes)
                ));
                devices.push(Device::gpu(&name, bytes));
            }
            None => notes.push(format!(
                "auto: adapter {} ({}) left out: its memory size is unknown (give it with --device SIZE)",
                a.name, a.backend
            )),
        }
    }
    if let Ok(mut sys) = sysinfo::System::new() {
        sys.refresh_memory();
        let avail = sys.available_memory();
        if avail > 0 {
            notes.push(format!(
                "auto: host memory available now: {}",
                crate::text::bytes(avail)
            ));
            devices.push(Device::host(avail));
        }
    }
    (devices, notes)
}

/// Total memory of each NVIDIA GPU, in `nvidia-smi`'s order; empty without the tool.
fn nvidia_memory() -> Vec<u64> {
    let Ok(out) = std::process::Command::new("nvidia-smi")
        .args(["--query-gpu=memory.total", "--format=csv,noheader,nounits"])
        .output()
    else {
        return Vec::new();
    };
    if !out.status.success() {
        return Vec::new();
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.trim().parse::<u64>().ok())
        .map(|mib| mib << 20)
        .collect()
}
