//! Opening what Trove found with the desktop's own programs: a file with its default
//! application (a PDF at the hit's page when the viewer can be told one), the folder that
//! holds it, a link in the browser. Only items of the library are opened, by id; the program
//! gets the path as one argument (no shell).

use std::ffi::OsString;
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};
use trove_core::{Item, ItemKind};

/// What to open.
#[derive(Debug, Clone, Copy, Default)]
pub struct Target {
    /// For a PDF: the page (1-based) to show.
    pub page: Option<u32>,
    /// The folder holding the file instead of the file.
    pub reveal: bool,
}

/// The command that opens `item` (program first), without running it. `viewer` is the
/// `pdf-viewer` setting: `auto`, or a command with `{file}` and `{page}` in it.
pub fn command_for(item: &Item, target: Target, viewer: &str) -> Result<Vec<OsString>> {
    if item.kind == ItemKind::Url {
        if target.reveal {
            bail!("{} is a link: there is no folder to show", item.id);
        }
        return Ok(vec!["xdg-open".into(), item.location.clone().into()]);
    }
    let path = Path::new(&item.location);
    if !path.exists() {
        bail!(
            "{} is no longer at {} (moved or deleted); its text is still in Trove",
            item.name,
            path.display()
        );
    }
    if target.reveal {
        let dir = path.parent().unwrap_or(Path::new("/"));
        return Ok(vec!["xdg-open".into(), dir.into()]);
    }
    let is_pdf = item.mime.as_deref() == Some("application/pdf");
    if let (true, Some(page)) = (is_pdf, target.page) {
        let viewer = viewer.trim();
        if !viewer.is_empty() && viewer != "auto" {
            return Ok(template(viewer, path, page));
        }
        if let Some(cmd) = default_pdf_viewer()
            .and_then(|app| at_page(&app, path, page))
            .filter(|cmd| on_path(&cmd[0].to_string_lossy()))
        {
            return Ok(cmd);
        }
    }
    Ok(vec!["xdg-open".into(), path.into()])
}

/// Run `command_for`'s command, detached: Trove does not wait for the viewer to close.
pub fn open(item: &Item, target: Target, viewer: &str) -> Result<Vec<OsString>> {
    let cmd = command_for(item, target, viewer)?;
    start(&cmd).with_context(|| {
        format!(
            "cannot start {} to open {} (is xdg-utils installed?)",
            cmd[0].to_string_lossy(),
            item.name
        )
    })?;
    Ok(cmd)
}

/// Start `cmd` detached; a thread reaps it when it ends (no zombies in a long-running app).
fn start(cmd: &[OsString]) -> std::io::Result<()> {
    let mut child = Command::new(&cmd[0])
        .args(&cmd[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    std::thread::spawn(move || child.wait());
    Ok(())
}

/// Whether `program` is on PATH (the viewer the desktop names may be a Flatpak with no
/// command of its own: then plain `xdg-open`).
fn on_path(program: &str) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|dir| {
            dir.join(program)
                .metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
    })
}

/// Show `dir` in the file manager (`xdg-open`), without waiting.
pub fn folder(dir: &Path) -> Result<()> {
    start(&["xdg-open".into(), dir.into()])
        .with_context(|| format!("cannot open {} (is xdg-utils installed?)", dir.display()))
}

/// A user's viewer command: words split on spaces, `{file}` and `{page}` replaced (a
/// command without `{file}` gets the file last).
fn template(viewer: &str, file: &Path, page: u32) -> Vec<OsString> {
    let mut cmd: Vec<OsString> = Vec::new();
    let mut has_file = false;
    for word in viewer.split_whitespace() {
        if word == "{file}" {
            cmd.push(file.into());
            has_file = true;
        } else if word.contains("{file}") {
            // Inside a word ("{file}#{page}"): as text; the page first, so a file name
            // holding "{page}" stays as it is.
            let w = word.replace("{page}", &page.to_string());
            cmd.push(w.replace("{file}", &file.to_string_lossy()).into());
            has_file = true;
        } else {
            cmd.push(word.replace("{page}", &page.to_string()).into());
        }
    }
    if !has_file {
        cmd.push(file.into());
    }
    cmd
}

/// The desktop file of the default PDF application (`org.gnome.Evince.desktop`).
fn default_pdf_viewer() -> Option<String> {
    let out = Command::new("xdg-mime")
        .args(["query", "default", "application/pdf"])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let app = String::from_utf8_lossy(&out.stdout).trim().to_lowercase();
    (!app.is_empty()).then_some(app)
}

/// The command that opens `file` at `page` in the viewer named by `desktop_file`, for the
/// viewers that take a page on their command line.
fn at_page(desktop_file: &str, file: &Path, page: u32) -> Option<Vec<OsString>> {
    let n = page.to_string();
    let args: &[&str] = if desktop_file.contains("evince") {
        &["evince", "--page-index", &n]
    } else if desktop_file.contains("okular") {
        &["okular", "-p", &n]
    } else if desktop_file.contains("zathura") {
        &["zathura", "-P", &n]
    } else if desktop_file.contains("atril") {
        &["atril", "--page-index", &n]
    } else if desktop_file.contains("xreader") {
        &["xreader", "--page-index", &n]
    } else {
        return None;
    };
    let mut cmd: Vec<OsString> = args.iter().map(OsString::from).collect();
    cmd.push(file.into());
    Some(cmd)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn viewers_are_told_the_page_their_own_way() {
        let f = Path::new("/tmp/a b.pdf");
        let show = |v: Vec<OsString>| -> Vec<String> {
            v.into_iter()
                .map(|s| s.to_string_lossy().into_owned())
                .collect()
        };
        assert_eq!(
            show(at_page("org.gnome.evince.desktop", f, 12).unwrap()),
            ["evince", "--page-index", "12", "/tmp/a b.pdf"]
        );
        assert_eq!(
            show(at_page("okularapplication_pdf.desktop", f, 3).unwrap()),
            ["okular", "-p", "3", "/tmp/a b.pdf"]
        );
        assert_eq!(
            show(at_page("org.pwmt.zathura.desktop", f, 3).unwrap()),
            ["zathura", "-P", "3", "/tmp/a b.pdf"]
        );
        assert!(at_page("firefox.desktop", f, 3).is_none());
        assert_eq!(
            show(template("qpdfview --unique {file}#{page}", f, 4)),
            ["qpdfview", "--unique", "/tmp/a b.pdf#4"]
        );
        assert_eq!(
            show(template("mupdf {file} {page}", f, 4)),
            ["mupdf", "/tmp/a b.pdf", "4"]
        );
        assert_eq!(
            show(template("my-viewer", f, 4)),
            ["my-viewer", "/tmp/a b.pdf"]
        );
    }
}
