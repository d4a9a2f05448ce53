//! Where cargo put things: the workspace, the target directory and the
//! profile this test executable was built with, and the other binaries the
//! tests run (`chat-server`, `chat-axum`, the chat example's example
//! programs).
//!
//! Everything is derived from the running test executable's own path,
//! `<target dir>[/<triple>]/<profile dir>/deps/<test>-<hash>`, so a custom
//! `CARGO_TARGET_DIR`, `--release`, `--profile` or `--target` is honoured
//! without reading cargo's configuration. A binary that is missing is built
//! with cargo for the same profile, target directory and triple; one that
//! exists is used as it is (`cargo test --workspace` and `scripts/test.sh`
//! build `chat-server` and `chat-axum` with the rest of the workspace; after
//! changing the example alone, build them before running only this
//! package's tests).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, PoisonError};

use crate::{Error, Result};

/// The workspace root (`<this crate>/..`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Where this test executable's build puts its outputs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// The cargo target directory (the one holding `CACHEDIR.TAG`).
    pub target_dir: PathBuf,
    /// The target triple's directory name, when the build used `--target`.
    pub triple: Option<String>,
    /// The profile's output directory, e.g. `<target>/debug`.
    pub profile_dir: PathBuf,
    /// The profile to pass to `cargo build --profile` (`dev` for `debug`).
    pub profile: String,
}

impl Layout {
    /// Reads the layout from an executable's path inside a profile
    /// directory (`.../<profile>/deps/<name>`, or `.../<profile>/<name>`).
    pub fn from_executable(exe: &Path) -> Result<Layout> {
        let parent = exe
            .parent()
            .ok_or_else(|| Error::Build(format!("{} has no parent directory", exe.display())))?;
        let profile_dir = if parent.file_name().is_some_and(|n| n == "deps") {
            parent.parent().unwrap_or(parent)
        } else {
            parent
        };
        let above = profile_dir.parent().ok_or_else(|| {
            Error::Build(format!("{} is not in a target directory", exe.display()))
        })?;
        // `<target>/<triple>/<profile>` when built with `--target`.
        let (target_dir, triple) = if above.join("CACHEDIR.TAG").is_file() {
            (above.to_path_buf(), None)
        } else {
            match above.parent() {
                Some(target) if target.join("CACHEDIR.TAG").is_file() => (
                    target.to_path_buf(),
                    above.file_name().map(|n| n.to_string_lossy().into_owned()),
                ),
                _ => {
                    return Err(Error::Build(format!(
                        "no cargo target directory (with CACHEDIR.TAG) above {}",
                        exe.display()
                    )));
                }
            }
        };
        let dir_name = profile_dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        // Cargo writes the `dev` and `test` profiles to `debug`.
        let profile = if dir_name == "debug" {
            "dev".to_owned()
        } else {
            dir_name
        };
        Ok(Layout {
            target_dir,
            triple,
            profile_dir: profile_dir.to_path_buf(),
            profile,
        })
    }

    /// The layout of the running executable.
    pub fn current() -> Result<Layout> {
        let exe = std::env::current_exe()
            .map_err(|e| Error::Build(format!("cannot find the test executable: {e}")))?;
        Layout::from_executable(&exe)
    }

    /// The `cargo build` arguments that select this layout's target
    /// directory, profile and triple.
    fn cargo_args(&self) -> Vec<String> {
        let mut args = vec![
            "--target-dir".to_owned(),
            self.target_dir.to_string_lossy().into_owned(),
            "--profile".to_owned(),
            self.profile.clone(),
        ];
        if let Some(triple) = &self.triple {
            args.extend(["--target".to_owned(), triple.clone()]);
        }
        args
    }
}

/// The cargo target directory this test executable was built in.
///
/// # Panics
/// When the executable does not sit in a cargo target directory.
pub fn target_dir() -> PathBuf {
    match Layout::current() {
        Ok(layout) => layout.target_dir,
        Err(e) => panic!("{e}"),
    }
}

/// What locating each artifact gave, once per test executable.
type Outcomes = Vec<(Artifact, Result<PathBuf>)>;

/// A binary the tests run: a package's `[[bin]]` or one of its examples.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Artifact {
    /// The package (`-p`).
    pub package: &'static str,
    /// The target's name.
    pub name: &'static str,
    /// An example (`--example`) rather than a binary (`--bin`).
    pub example: bool,
}

/// The chat server binary.
pub const CHAT_SERVER: Artifact = Artifact {
    package: "chat-example",
    name: "chat-server",
    example: false,
};

/// The chat service mounted in axum, with its REST routes.
pub const CHAT_AXUM: Artifact = Artifact {
    package: "chat-example",
    name: "chat-axum",
    example: false,
};

/// The chat example's client program (`examples/chat/examples/client.rs`).
pub const CHAT_CLIENT_EXAMPLE: Artifact = Artifact {
    package: "chat-example",
    name: "client",
    example: true,
};

/// The `chat-server` binary's path, built first when missing (see
/// [`Artifact::locate`]).
pub fn chat_server_binary() -> Result<PathBuf> {
    CHAT_SERVER.locate()
}

impl Artifact {
    /// Where cargo puts it for `layout`.
    pub fn path_in(&self, layout: &Layout) -> PathBuf {
        let file = format!("{}{}", self.name, std::env::consts::EXE_SUFFIX);
        if self.example {
            layout.profile_dir.join("examples").join(file)
        } else {
            layout.profile_dir.join(file)
        }
    }

    /// The `cargo build` command that builds it for `layout`.
    pub fn build_command(&self, layout: &Layout) -> Command {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut command = Command::new(cargo);
        command
            .current_dir(workspace_root())
            .args(["build", "-p", self.package])
            .arg(if self.example { "--example" } else { "--bin" })
            .arg(self.name)
            .args(layout.cargo_args())
            .stdin(Stdio::null());
        command
    }

    /// Its path, built first (once per test executable) when missing.
    ///
    /// An artifact already located is answered at once, even while another
    /// is being built: a test that restarts a server must not wait behind
    /// another test's `cargo build`.
    pub fn locate(&self) -> Result<PathBuf> {
        static OUTCOMES: Mutex<Outcomes> = Mutex::new(Vec::new());
        static BUILDING: Mutex<()> = Mutex::new(());
        let known = || {
            let done = OUTCOMES.lock().unwrap_or_else(PoisonError::into_inner);
            done.iter().find(|(a, _)| a == self).map(|(_, o)| o.clone())
        };
        if let Some(outcome) = known() {
            return outcome;
        }
        // One build at a time; another thread may have built it meanwhile.
        let _building = BUILDING.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(outcome) = known() {
            return outcome;
        }
        let outcome = self.locate_or_build();
        OUTCOMES
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((*self, outcome.clone()));
        outcome
    }

    fn locate_or_build(&self) -> Result<PathBuf> {
        let layout = Layout::current()?;
        let path = self.path_in(&layout);
        if path.is_file() {
            return Ok(path);
        }
        let mut command = self.build_command(&layout);
        let output = command
            .output()
            .map_err(|e| Error::Build(format!("could not run {command:?}: {e}")))?;
        if !output.status.success() {
            return Err(Error::Build(format!(
                "{command:?} exited with {}:\n{}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            )));
        }
        if path.is_file() {
            Ok(path)
        } else {
            Err(Error::Build(format!(
                "{command:?} succeeded but {} does not exist",
                path.display()
            )))
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// A target directory in a temporary directory, as cargo lays it out.
    fn target(parts: &[&str]) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("CACHEDIR.TAG"), "Signature").unwrap();
        let mut exe = dir.path().to_path_buf();
        for part in parts {
            exe.push(part);
        }
        (dir, exe)
    }

    #[test]
    fn reads_the_profile_and_target_dir_from_a_test_executable() {
        let (dir, exe) = target(&["debug", "deps", "auth-0123"]);
        let layout = Layout::from_executable(&exe).unwrap();
        assert_eq!(layout.target_dir, dir.path());
        assert_eq!(layout.profile, "dev");
        assert_eq!(layout.triple, None);
        assert_eq!(
            CHAT_SERVER.path_in(&layout),
            dir.path()
                .join("debug")
                .join(format!("chat-server{}", std::env::consts::EXE_SUFFIX))
        );
        let (dir, exe) = target(&["release", "deps", "auth-0123"]);
        let layout = Layout::from_executable(&exe).unwrap();
        assert_eq!(layout.profile, "release");
        assert_eq!(
            CHAT_CLIENT_EXAMPLE.path_in(&layout),
            dir.path()
                .join("release/examples")
                .join(format!("client{}", std::env::consts::EXE_SUFFIX))
        );
    }

    #[test]
    fn a_target_triple_is_kept_and_passed_to_cargo() {
        let (dir, exe) = target(&["x86_64-unknown-linux-gnu", "ci", "deps", "t-1"]);
        let layout = Layout::from_executable(&exe).unwrap();
        assert_eq!(layout.target_dir, dir.path());
        assert_eq!(layout.triple.as_deref(), Some("x86_64-unknown-linux-gnu"));
        assert_eq!(layout.profile, "ci");
        let command = CHAT_SERVER.build_command(&layout);
        let args: Vec<String> = command
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let target = dir.path().to_string_lossy().into_owned();
        assert_eq!(
            args,
            [
                "build",
                "-p",
                "chat-example",
                "--bin",
                "chat-server",
                "--target-dir",
                target.as_str(),
                "--profile",
                "ci",
                "--target",
                "x86_64-unknown-linux-gnu"
            ]
        );
    }

    #[test]
    fn an_executable_outside_a_target_directory_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let exe = dir.path().join("debug").join("deps").join("t-1");
        assert!(matches!(
            Layout::from_executable(&exe),
            Err(Error::Build(_))
        ));
    }

    #[test]
    fn a_failed_build_reports_cargos_output() {
        let missing = Artifact {
            package: "no-such-package",
            name: "nothing",
            example: false,
        };
        match missing.locate() {
            Err(Error::Build(message)) => {
                assert!(message.contains("exited with"), "{message}");
                // cargo's own diagnostic, naming the package it did not find
                assert!(
                    message.contains("no-such-package` did not match"),
                    "{message}"
                );
            }
            other => panic!("expected a build error, got {other:?}"),
        }
    }

    #[test]
    fn the_running_test_executable_has_a_layout() {
        let layout = Layout::current().unwrap();
        assert!(layout.target_dir.join("CACHEDIR.TAG").is_file());
        assert!(layout.profile_dir.starts_with(&layout.target_dir));
    }
}
