//! The on-disk compile cache (`EngineOptions.cache`): compiled modules and components stored as `.cwasm` files
//! named by a SHA-256 of the wasm bytes and the engine's compatibility hash (wasmtime version,
//! target, configuration). A hit is a memory-mapped `Module::deserialize_file`; a miss compiles
//! and writes the file atomically (temp file + rename), so concurrent processes never read a
//! half-written entry. A corrupt or incompatible entry is recompiled and replaced.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest, Sha256};
use wasmtime::component::Component;
use wasmtime::{Engine, Module};

/// What the cache holds: compiled modules and components.
pub trait Artifact: Sized {
    fn from_binary(engine: &Engine, wasm: &[u8]) -> wasmtime::Result<Self>;
    /// SAFETY (caller): `path` holds what `serialize` wrote for this engine's configuration.
    unsafe fn deserialize_file(engine: &Engine, path: &Path) -> wasmtime::Result<Self>;
    fn serialize(&self) -> wasmtime::Result<Vec<u8>>;
}

impl Artifact for Module {
    fn from_binary(engine: &Engine, wasm: &[u8]) -> wasmtime::Result<Self> {
        Module::from_binary(engine, wasm)
    }
    unsafe fn deserialize_file(engine: &Engine, path: &Path) -> wasmtime::Result<Self> {
        // SAFETY: the caller's contract.
        unsafe { Module::deserialize_file(engine, path) }
    }
    fn serialize(&self) -> wasmtime::Result<Vec<u8>> {
        Module::serialize(self)
    }
}

impl Artifact for Component {
    fn from_binary(engine: &Engine, wasm: &[u8]) -> wasmtime::Result<Self> {
        Component::from_binary(engine, wasm)
    }
    unsafe fn deserialize_file(engine: &Engine, path: &Path) -> wasmtime::Result<Self> {
        // SAFETY: the caller's contract.
        unsafe { Component::deserialize_file(engine, path) }
    }
    fn serialize(&self) -> wasmtime::Result<Vec<u8>> {
        Component::serialize(self)
    }
}

static HITS: AtomicU64 = AtomicU64::new(0);
static MISSES: AtomicU64 = AtomicU64::new(0);

/// (hits, misses) since the process started, for tests and benchmarks.
pub fn stats() -> (u64, u64) {
    (HITS.load(Ordering::Relaxed), MISSES.load(Ordering::Relaxed))
}

fn entry_path(dir: &Path, engine: &Engine, wasm: &[u8]) -> PathBuf {
    let mut compat = DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut compat);
    let mut h = Sha256::new();
    h.update(wasm);
    h.update(compat.finish().to_le_bytes());
    let digest = h.finalize();
    let name: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    dir.join(format!("{name}.cwasm"))
}

/// The module or component for `wasm`, from the cache when possible. Cache I/O errors never fail
/// a compile.
pub fn compile<T: Artifact>(engine: &Engine, dir: &Path, wasm: &[u8]) -> wasmtime::Result<T> {
    let path = entry_path(dir, engine, wasm);
    if path.exists() {
        // SAFETY: entries are written only by `store` below, named by the hash of their source
        // and of the engine's configuration; the cache directory is the user's own (documented:
        // it must not be writable by anyone they do not trust). wasmtime also checks the header.
        if let Ok(m) = unsafe { T::deserialize_file(engine, &path) } {
            HITS.fetch_add(1, Ordering::Relaxed);
            return Ok(m);
        }
    }
    MISSES.fetch_add(1, Ordering::Relaxed);
    let compiled = T::from_binary(engine, wasm)?;
    let _ = store(&path, &compiled);
    Ok(compiled)
}

fn store(path: &Path, module: &impl Artifact) -> std::io::Result<()> {
    let bytes = module.serialize().map_err(std::io::Error::other)?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension(format!("tmp{}", std::process::id() as u64 * 1_000_003 + rand::random::<u32>() as u64));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}
