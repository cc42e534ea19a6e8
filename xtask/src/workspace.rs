//! Where the repository is, and which files belong to it.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::catalogue::{CAPSTONE_CATALOGUE, CapstoneCatalogue, Catalogue};
use crate::error::{Context, Error, Result};

/// The repository the tools work on.
#[derive(Debug, Clone)]
pub struct Workspace {
    /// The folder holding the workspace `Cargo.toml`.
    pub root: PathBuf,
}

impl Workspace {
    /// The workspace this tool was built in. Cargo aliases run the tool from
    /// any folder inside the repository, so the tool finds the root from its
    /// own manifest rather than from the current folder.
    pub fn locate() -> Result<Self> {
        let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
        let root = manifest_dir
            .parent()
            .ok_or_else(|| Error::Usage("the xtask crate has no parent folder".into()))?;
        Self::at(root)
    }

    /// The workspace rooted at `root`.
    ///
    /// # Errors
    /// When `root` holds no `Cargo.toml`.
    pub fn at(root: &Path) -> Result<Self> {
        if root.join("Cargo.toml").is_file() {
            Ok(Self {
                root: root.to_path_buf(),
            })
        } else {
            Err(Error::Usage(format!(
                "{} is not the workspace root: it has no Cargo.toml",
                root.display()
            )))
        }
    }

    /// Where cargo builds: `CARGO_TARGET_DIR`, or `target/` in the root.
    pub fn target_dir(&self) -> PathBuf {
        std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| self.root.join("target"))
    }

    /// A folder of the tools' own, inside the target folder so git ignores it.
    /// A copy of the repository placed here must also build into a target
    /// folder of its own (see [`crate::progressive`]).
    pub fn scratch(&self, name: &str) -> PathBuf {
        self.target_dir().join("xtask").join(name)
    }

    /// Every workshop's catalogue, in workshop order.
    pub fn catalogues(&self) -> Result<Vec<Catalogue>> {
        let mut catalogues = Vec::new();
        let entries =
            std::fs::read_dir(&self.root).context(|| format!("reading {}", self.root.display()))?;
        for entry in entries {
            let entry = entry.context(|| format!("reading {}", self.root.display()))?;
            let path = entry.path().join("exercises.toml");
            if path.is_file() {
                catalogues.push(Catalogue::load(&self.root, &path)?);
            }
        }
        catalogues.sort_by_key(|catalogue| catalogue.workshop);
        Ok(catalogues)
    }

    /// The capstone's catalogue, if the repository has a capstone.
    ///
    /// # Errors
    /// When `tests/demos.toml` exists and is malformed.
    pub fn capstone(&self) -> Result<Option<CapstoneCatalogue>> {
        let path = self.root.join(CAPSTONE_CATALOGUE);
        if path.is_file() {
            CapstoneCatalogue::load(&path).map(Some)
        } else {
            Ok(None)
        }
    }

    /// The catalogue of workshop `number`.
    pub fn catalogue(&self, number: u32) -> Result<Catalogue> {
        self.catalogues()?
            .into_iter()
            .find(|catalogue| catalogue.workshop == number)
            .ok_or_else(|| Error::Usage(format!("there is no workshop {number}")))
    }

    /// The repository's files, relative to the root: what git tracks plus new
    /// files it does not ignore. Outside a git checkout, every file except the
    /// build output.
    pub fn files(&self) -> Result<Vec<PathBuf>> {
        let listed = Command::new("git")
            .args([
                "ls-files",
                "-z",
                "--cached",
                "--others",
                "--exclude-standard",
            ])
            .current_dir(&self.root)
            .output();
        match listed {
            Ok(output) if output.status.success() => Ok(output
                .stdout
                .split(|&byte| byte == 0)
                .filter(|name| !name.is_empty())
                .map(|name| PathBuf::from(String::from_utf8_lossy(name).into_owned()))
                .filter(|path| self.root.join(path).is_file())
                .collect()),
            _ => {
                let mut files = Vec::new();
                walk(&self.root, Path::new(""), &mut files)?;
                files.sort();
                Ok(files)
            }
        }
    }

    /// Copies the repository's files into `destination`, replacing what was
    /// there, so a check can change files without touching the real tree.
    pub fn copy_to(&self, destination: &Path) -> Result<()> {
        if destination.exists() {
            std::fs::remove_dir_all(destination)
                .context(|| format!("clearing {}", destination.display()))?;
        }
        for file in self.files()? {
            let target = destination.join(&file);
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent)
                    .context(|| format!("creating {}", parent.display()))?;
            }
            std::fs::copy(self.root.join(&file), &target)
                .context(|| format!("copying {}", file.display()))?;
        }
        Ok(())
    }
}

fn walk(root: &Path, relative: &Path, files: &mut Vec<PathBuf>) -> Result<()> {
    let folder = root.join(relative);
    let entries = std::fs::read_dir(&folder).context(|| format!("reading {}", folder.display()))?;
    for entry in entries {
        let entry = entry.context(|| format!("reading {}", folder.display()))?;
        let name = entry.file_name();
        if name == "target" || name == ".git" {
            continue;
        }
        let path = relative.join(&name);
        if entry.path().is_dir() {
            walk(root, &path, files)?;
        } else {
            files.push(path);
        }
    }
    Ok(())
}
