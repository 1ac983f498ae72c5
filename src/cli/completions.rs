//! `syncdeck completions SHELL` and `syncdeck man`: generated from the clap definition, so
//! they always list the subcommands and flags this binary has.

use std::io::Write;

use clap_complete::Shell;

/// Write the completion script for `shell` to `out`.
pub fn completions(
    shell: Shell,
    mut command: clap::Command,
    out: &mut dyn Write,
) -> anyhow::Result<u8> {
    let name = command.get_name().to_string();
    clap_complete::generate(shell, &mut command, name, out);
    Ok(0)
}

/// Write the man page (roff) to `out`: synopsis, options and the list of subcommands.
pub fn man(command: clap::Command, out: &mut dyn Write) -> anyhow::Result<u8> {
    clap_mangen::Man::new(command).render(out)?;
    Ok(0)
}
