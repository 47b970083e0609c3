//! The `keyform` command: parses arguments, runs the command, exits with its code.

fn main() {
    let code = keyform::cli::main();
    std::process::exit(code);
}
