//! `redress demo`: runs the bundled sample incident (NTT East 2009: ADSL/ISDN cancellations never
//! processed) on the bundled sample data, and tells the user where the results are. The sample
//! files are compiled into the binary so the demo works from any directory.

use std::path::Path;

use crate::error::RunError;
use crate::output::OutputError;
use crate::pipeline;
use crate::progress::Silent;
use crate::settings::SettingsBuilder;

const INCIDENT: &str = include_str!("../samples/incidents/demo.toml");
const ACCOUNTS: &str = include_str!("../samples/data/demo/accounts.csv");
const CHARGES: &str = include_str!("../samples/data/demo/charges.csv");
const EVENTS: &str = include_str!("../samples/data/demo/events.csv");

pub fn demo(out: &Path) -> Result<String, RunError> {
    let inputs = tempfile::tempdir().map_err(|source| OutputError::Io {
        path: std::env::temp_dir(),
        source,
    })?;
    let data = inputs.path().join("data");
    let write = |name: &str, text: &str| {
        let path = data.join(name);
        std::fs::write(&path, text).map_err(|source| OutputError::Io { path, source })
    };
    std::fs::create_dir_all(&data).map_err(|source| OutputError::Io {
        path: data.clone(),
        source,
    })?;
    write("accounts.csv", ACCOUNTS)?;
    write("charges.csv", CHARGES)?;
    write("events.csv", EVENTS)?;
    let incident = inputs.path().join("demo.toml");
    std::fs::write(&incident, INCIDENT).map_err(|source| OutputError::Io {
        path: incident.clone(),
        source,
    })?;
    let settings = SettingsBuilder::new(incident)
        .data(data)
        .quiet(2)
        .out(out)
        .force(true)
        .build()?;
    let report = pipeline::run(&settings, &Silent)?;
    Ok(crate::render::text::demo(&settings.incident, &report))
}
