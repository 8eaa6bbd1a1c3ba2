fn main() {
    // The window (and its config, icons and capabilities) only exists with the `gui` feature;
    // the CLI-only build (`--no-default-features`) needs nothing generated.
    #[cfg(feature = "gui")]
    tauri_build::build();
}
