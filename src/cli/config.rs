//! `syncdeck config check` and `syncdeck config path`.

use crate::config::Paths;

/// Validate the configuration; exit 0 when valid, 1 with diagnostics, 2 when missing.
pub fn check(_paths: &Paths) -> anyhow::Result<u8> {
    anyhow::bail!("config check is not built yet")
}

pub fn path(paths: &Paths) -> anyhow::Result<u8> {
    println!("config       {}", paths.config_file.display());
    println!("data         {}", paths.data_dir.display());
    println!("credentials  {}", paths.credentials_dir().display());
    println!("logs         {}", paths.log_file().display());
    Ok(0)
}
