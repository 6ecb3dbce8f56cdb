// The napi_* functions this executable defines must be in its dynamic symbol table, so that
// dlopen() of an addon resolves the addon's undefined napi_* symbols against them. On Linux only
// those are exported (a dynamic list read from src/napi.rs), not the whole of Rust's std.
use std::fs;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=src/napi.rs");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("macos") {
        println!("cargo:rustc-link-arg-bins=-Wl,-export_dynamic");
        return;
    }
    let source = fs::read_to_string("src/napi.rs").expect("src/napi.rs");
    let names: Vec<&str> = source
        .lines()
        .filter_map(|l| l.strip_prefix("pub unsafe extern \"C\" fn "))
        .map(|l| l.split('(').next().unwrap_or_default())
        .collect();
    let list = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR")).join("napi.list");
    fs::write(&list, format!("{{\n{}\n}};\n", names.iter().map(|n| format!("  {n};")).collect::<Vec<_>>().join("\n"))).expect("write the dynamic list");
    println!("cargo:rustc-link-arg-bins=-Wl,--dynamic-list={}", list.display());
}
