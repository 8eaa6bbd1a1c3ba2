use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use crate::output::Out;

#[derive(Debug, Args)]
pub struct BenchArgs {}

pub fn run(_args: &BenchArgs, _out: &Out) -> Result<ExitCode> {
    anyhow::bail!("not yet")
}
