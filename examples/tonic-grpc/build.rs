//! Generates the gRPC code for `proto/greeter.proto`.
//!
//! `protoc` comes from the `protoc-bin-vendored` crate and is handed to prost through
//! `Config::protoc_executable`, so neither a system `protoc` nor a `PROTOC` variable is needed
//! (and no `unsafe` `std::env::set_var` either).

use std::error::Error;

fn main() -> Result<(), Box<dyn Error>> {
    let proto = "proto/greeter.proto";
    println!("cargo:rerun-if-changed={proto}");

    let mut config = tonic_prost_build::Config::new();
    config.protoc_executable(protoc_bin_vendored::protoc_bin_path()?);
    tonic_prost_build::configure().compile_with_config(config, &[proto], &["proto"])?;
    Ok(())
}
