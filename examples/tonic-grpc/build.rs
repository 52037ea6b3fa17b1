//! Generates the gRPC code for `proto/greeter.proto`, and its encoded file descriptor set for
//! the reflection service.
//!
//! `protoc` comes from the `protoc-bin-vendored` crate and is handed to prost through
//! `Config::protoc_executable`, so neither a system `protoc` nor a `PROTOC` variable is needed
//! (and no `unsafe` `std::env::set_var` either).

use std::error::Error;
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn Error>> {
    let proto = "proto/greeter.proto";
    println!("cargo:rerun-if-changed={proto}");

    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    let mut config = tonic_prost_build::Config::new();
    config.protoc_executable(protoc_bin_vendored::protoc_bin_path()?);
    tonic_prost_build::configure()
        .file_descriptor_set_path(out_dir.join("demo_descriptor.bin"))
        .compile_with_config(config, &[proto], &["proto"])?;
    Ok(())
}
