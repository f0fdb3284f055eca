//! PDF copies of the notices for a print vendor (`run --pdf`): one PDF per notice and one merged
//! PDF of all of them in index order, each notice starting on a new page. The engine is a headless
//! Chromium found on the machine (`REDRESS_CHROMIUM`, else `chromium`, `chromium-browser`,
//! `google-chrome` on PATH), printing the same A4 HTML the notices are; the HTML stays the
//! default. Chromium stamps a creation date into each PDF, so PDFs are not byte-identical across
//! runs and, like the notices, are not hashed in the manifest. Never renders a notice itself.

use std::path::{Path, PathBuf};
use std::process::Command;

use rayon::prelude::*;

/// The programs tried, in order, when `REDRESS_CHROMIUM` is not set.
const CANDIDATES: [&str; 4] = [
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
];

#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    #[error(
        "--pdf needs a PDF engine, and no Chromium was found (REDRESS_CHROMIUM, or chromium, chromium-browser, google-chrome on PATH)\nhint: install one (Debian/Ubuntu: `apt-get install chromium fonts-noto-cjk`) or set REDRESS_CHROMIUM=/path/to/chrome; without --pdf the notices are HTML and Markdown"
    )]
    NoEngine,
    #[error("{program} could not print {html} to PDF: {message}")]
    Print {
        program: String,
        html: String,
        message: String,
    },
    #[error("cannot write or read `{path}` while printing PDFs")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

/// A headless Chromium that prints HTML to PDF.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PdfEngine {
    pub program: PathBuf,
}

impl PdfEngine {
    /// `REDRESS_CHROMIUM`, or the first candidate on PATH.
    pub fn find() -> Result<PdfEngine, PdfError> {
        if let Some(program) = std::env::var_os("REDRESS_CHROMIUM") {
            let program = PathBuf::from(program);
            return if program.is_file() {
                Ok(PdfEngine { program })
            } else {
                Err(PdfError::NoEngine)
            };
        }
        let path = std::env::var_os("PATH").unwrap_or_default();
        CANDIDATES
            .iter()
            .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
            .find(|candidate| candidate.is_file())
            .map(|program| PdfEngine { program })
            .ok_or(PdfError::NoEngine)
    }

    /// Prints `html` to `pdf` (A4, as the page's `@page` asks, without browser headers).
    pub fn print(&self, html: &Path, pdf: &Path) -> Result<(), PdfError> {
        let profile = tempfile::tempdir().map_err(|source| PdfError::Io {
            path: std::env::temp_dir().display().to_string(),
            source,
        })?;
        let html = std::path::absolute(html).map_err(|source| PdfError::Io {
            path: html.display().to_string(),
            source,
        })?;
        let output = Command::new(&self.program)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-pdf-header-footer",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg(format!("--print-to-pdf={}", pdf.display()))
            .arg(format!("file://{}", html.display()))
            .output()
            .map_err(|source| PdfError::Io {
                path: self.program.display().to_string(),
                source,
            })?;
        let printed = std::fs::metadata(pdf).is_ok_and(|meta| meta.len() > 0);
        if !output.status.success() || !printed {
            return Err(PdfError::Print {
                program: self.program.display().to_string(),
                html: html.display().to_string(),
                message: String::from_utf8_lossy(&output.stderr)
                    .lines()
                    .last()
                    .unwrap_or("no PDF was written")
                    .to_string(),
            });
        }
        Ok(())
    }

    /// Prints every notice in `notices_dir` named in `stems` (refund_ids, index order) to
    /// `pdf/STEM.pdf`, in parallel, and all of them into `notices.pdf`, each from a new page.
    pub fn print_notices(
        &self,
        notices_dir: &Path,
        stems: &[String],
        scratch: &Path,
    ) -> Result<(), PdfError> {
        let pdf_dir = notices_dir.join("pdf");
        std::fs::create_dir_all(&pdf_dir).map_err(|source| PdfError::Io {
            path: pdf_dir.display().to_string(),
            source,
        })?;
        stems.par_iter().try_for_each(|stem| {
            self.print(
                &notices_dir.join(format!("{stem}.html")),
                &pdf_dir.join(format!("{stem}.pdf")),
            )
        })?;
        let merged = scratch.join("notices.html");
        let html = merged_html(notices_dir, stems)?;
        std::fs::write(&merged, html).map_err(|source| PdfError::Io {
            path: merged.display().to_string(),
            source,
        })?;
        self.print(&merged, &notices_dir.join("notices.pdf"))
    }
}

/// One HTML document holding every notice's body in order, each starting on a new page, with the
/// notices' own style.
fn merged_html(notices_dir: &Path, stems: &[String]) -> Result<String, PdfError> {
    let mut head = String::new();
    let mut bodies = String::new();
    for (index, stem) in stems.iter().enumerate() {
        let path = notices_dir.join(format!("{stem}.html"));
        let page = std::fs::read_to_string(&path).map_err(|source| PdfError::Io {
            path: path.display().to_string(),
            source,
        })?;
        let (Some(body_start), Some(body_end)) = (page.find("<body>"), page.rfind("</body>"))
        else {
            continue;
        };
        if head.is_empty() {
            head = page[..body_start].to_string();
        }
        let class = if index == 0 { "notice" } else { "notice next" };
        // Each notice keeps its language (fonts and line breaking follow it).
        let language = page
            .split_once("<html lang=\"")
            .and_then(|(_, rest)| rest.split_once('"'))
            .map_or("ja", |(language, _)| language);
        bodies.push_str(&format!(
            "<section class=\"{class}\" lang=\"{language}\">\n{}</section>\n",
            &page[body_start + "<body>".len()..body_end]
        ));
    }
    let head = head.replace("</style>", ".next{break-before:page}</style>");
    Ok(format!("{head}<body>\n{bodies}</body>\n</html>\n"))
}
