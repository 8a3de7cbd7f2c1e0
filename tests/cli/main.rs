//! CLI integration tests: one binary, one module per area. Each test that needs a real component
//! (QEMU via binfmt, Docker Engine, a registry) uses it for real and fails naming what is missing.

mod archinfo;
mod bench;
mod build;
mod corpus;
mod doctor;
mod identify;
mod image;
mod modern;
mod programs;
mod registry_support;
mod report;
mod support;
mod token;
mod verify;
mod wasm;
mod workflows;
