//! The demo company's parameters and default content, read from `seeds/` (built in, or an
//! operator's copy with `keel demo --seeds DIR`), so they change without touching Rust.

use std::path::Path;

use anyhow::Context;
use serde::Deserialize;

use crate::auth::Role;

const COMPANY: &str = include_str!("../../seeds/demo_company.toml");

/// `seeds/demo_company.toml`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub book_size: usize,
    pub csms_per_manager: usize,
    pub staff: Vec<Login>,
    pub segments: Vec<SegmentSeed>,
    pub events: Vec<EventSeed>,
    pub names: Names,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Login {
    pub email: String,
    pub name: String,
    pub role: Role,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SegmentSeed {
    pub name: String,
    pub share: u32,
    pub mrr: (i64, i64),
    pub seats: (i64, i64),
    pub max_users: i64,
    pub annual_churn: f64,
    pub plans: Vec<String>,
    pub expansion_offset: f64,
    pub trial: bool,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventSeed {
    pub name: String,
    pub rate: f64,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Names {
    pub first: Vec<String>,
    pub second: Vec<String>,
}

/// Everything `keel demo` reads from a seeds folder.
#[derive(Clone, Debug)]
pub struct Seeds {
    pub company: Profile,
    /// The event mapping saved as the first version (`demo_event_mapping.txt`).
    pub mapping: String,
}

impl Seeds {
    /// The built-in seeds, or those in `dir` (a file it lacks comes from the built-in set).
    pub fn load(dir: Option<&Path>) -> anyhow::Result<Seeds> {
        let mapping = match dir.map(|d| d.join("demo_event_mapping.txt")) {
            Some(path) if path.exists() => std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?,
            _ => crate::taxonomy::DEMO_MAPPING.to_owned(),
        };
        let company = match dir.filter(|d| d.join("demo_company.toml").exists()) {
            Some(d) => Profile::load(Some(d))?,
            None => Profile::load(None)?,
        };
        Ok(Seeds { company, mapping })
    }
}

impl Profile {
    /// The built-in profile, or `dir/demo_company.toml` when a folder is given.
    pub fn load(dir: Option<&Path>) -> anyhow::Result<Profile> {
        let (text, from) = match dir {
            Some(d) => {
                let path = d.join("demo_company.toml");
                let text = std::fs::read_to_string(&path)
                    .with_context(|| format!("reading {}", path.display()))?;
                (text, path.display().to_string())
            }
            None => (COMPANY.to_owned(), "the built-in seeds".to_owned()),
        };
        let profile: Profile = toml::from_str(&text).with_context(|| format!("reading {from}"))?;
        profile.check().with_context(|| format!("in {from}"))?;
        Ok(profile)
    }

    /// What the simulation needs to make sense of it.
    fn check(&self) -> anyhow::Result<()> {
        anyhow::ensure!(self.book_size > 0, "book_size must be at least 1");
        anyhow::ensure!(
            self.csms_per_manager > 0,
            "csms_per_manager must be at least 1"
        );
        anyhow::ensure!(!self.segments.is_empty(), "no segments");
        anyhow::ensure!(
            self.segments.iter().any(|s| s.trial),
            "no segment is marked trial = true"
        );
        for s in &self.segments {
            anyhow::ensure!(
                s.mrr.0 <= s.mrr.1 && s.seats.0 <= s.seats.1 && s.seats.0 > 0,
                "segment {}: ranges must run low to high, seats from 1",
                s.name
            );
            anyhow::ensure!(!s.plans.is_empty(), "segment {}: no plans", s.name);
        }
        anyhow::ensure!(self.events.len() >= 3, "at least three event types");
        anyhow::ensure!(
            !self.names.first.is_empty() && !self.names.second.is_empty(),
            "names: both lists need a name"
        );
        Ok(())
    }

    /// Segment indexes trials start in.
    pub fn trial_segments(&self) -> Vec<usize> {
        (0..self.segments.len())
            .filter(|&i| self.segments[i].trial)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_seeds_load() {
        let p = Profile::load(None).unwrap();
        assert_eq!(p.segments.len(), 4);
        assert_eq!(p.segments.iter().map(|s| s.share).sum::<u32>(), 4_200);
        assert_eq!(p.trial_segments(), [2, 3]);
        assert_eq!(p.events[0].name, "page_viewed");
        assert_eq!(p.staff[0].role, Role::Admin);
    }

    #[test]
    fn a_broken_copy_says_what_is_wrong() {
        let dir = std::env::temp_dir().join(format!("keel-seeds-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let text = COMPANY.replace("trial = true", "trial = false");
        std::fs::write(dir.join("demo_company.toml"), text).unwrap();
        let err = format!("{:#}", Profile::load(Some(&dir)).unwrap_err());
        assert!(err.contains("no segment is marked trial = true"), "{err}");
        std::fs::write(dir.join("demo_company.toml"), "book_size = \"many\"").unwrap();
        let err = format!("{:#}", Profile::load(Some(&dir)).unwrap_err());
        assert!(err.contains("book_size"), "{err}");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
