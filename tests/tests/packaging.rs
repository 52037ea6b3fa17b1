//! What crates.io and docs.rs show of each published crate (issue 18): its metadata, both licence
//! files, and a README whose install line and features table match its `Cargo.toml`, so the
//! pages cannot drift from the manifests.
// Test helpers outside `#[test]` functions: a missing file is a failed test.
#![allow(clippy::panic, clippy::expect_used)]

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

/// The crates published to crates.io.
const PUBLISHED: [&str; 6] = [
    "auth-core",
    "auth-tower",
    "auth-axum-extractors",
    "auth-redis",
    "auth-test",
    "auth-postgres",
];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate sits in the workspace")
        .to_path_buf()
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The `[package]` keys of a manifest, as written (`name = value` or `name.workspace = true`).
fn package_keys(manifest: &str) -> BTreeSet<String> {
    let mut in_package = false;
    let mut keys = BTreeSet::new();
    for line in manifest.lines() {
        if line.starts_with('[') {
            in_package = line.trim() == "[package]";
        } else if in_package && let Some((key, _)) = line.split_once('=') {
            keys.insert(key.trim().trim_end_matches(".workspace").to_owned());
        }
    }
    keys
}

/// The features of a manifest that have `##` documentation (what `document-features` renders
/// into the rustdoc).
fn documented_features(manifest: &str) -> BTreeSet<String> {
    let mut in_features = false;
    let mut documented = false;
    let mut names = BTreeSet::new();
    for line in manifest.lines() {
        if line.starts_with('[') {
            in_features = line.trim() == "[features]";
            documented = false;
        } else if in_features && line.starts_with("## ") {
            documented = true;
        } else if in_features && let Some((name, _)) = line.split_once(" = ") {
            if documented {
                names.insert(name.trim().to_owned());
            }
            documented = false;
        }
    }
    names
}

/// The feature names in the first column of the README's `## Features` table.
fn readme_features(readme: &str) -> BTreeSet<String> {
    let Some((_, section)) = readme.split_once("\n## Features\n") else {
        return BTreeSet::new();
    };
    let section = section.split("\n## ").next().unwrap_or_default();
    section
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split_once('`'))
        .map(|(name, _)| name.to_owned())
        .collect()
}

#[test]
fn every_published_crate_has_the_metadata_crates_io_shows() {
    for name in PUBLISHED {
        let manifest = read(&workspace().join(name).join("Cargo.toml"));
        let keys = package_keys(&manifest);
        for key in [
            "name",
            "description",
            "readme",
            "documentation",
            "keywords",
            "categories",
            "license",
            "repository",
            "rust-version",
            "edition",
            "version",
        ] {
            assert!(
                keys.contains(key),
                "{name}: `{key}` is missing from [package]"
            );
        }
        assert!(
            manifest.contains(&format!("documentation = \"https://docs.rs/{name}\"")),
            "{name}: documentation should point at its docs.rs page"
        );
        assert!(
            manifest.contains("readme = \"README.md\""),
            "{name}: readme"
        );
        assert!(
            !manifest.contains("publish = false"),
            "{name} is listed as published"
        );
    }
}

#[test]
fn every_published_crate_ships_both_licence_files_and_its_readme() {
    let root = workspace();
    let mit = read(&root.join("LICENSE-MIT"));
    let apache = read(&root.join("LICENSE-APACHE"));
    assert!(mit.contains("Permission is hereby granted, free of charge"));
    assert!(apache.contains("Apache License") && apache.contains("Version 2.0, January 2004"));
    for name in PUBLISHED {
        let dir = root.join(name);
        assert_eq!(read(&dir.join("LICENSE-MIT")), mit, "{name}/LICENSE-MIT");
        assert_eq!(
            read(&dir.join("LICENSE-APACHE")),
            apache,
            "{name}/LICENSE-APACHE"
        );
        let readme = read(&dir.join("README.md"));
        assert!(
            readme
                .lines()
                .any(|l| l.starts_with("cargo add") && l.split_whitespace().any(|w| w == name)),
            "{name}: the README has no `cargo add {name}` line"
        );
        assert!(readme.contains("LICENSE-MIT") && readme.contains("LICENSE-APACHE"));
    }
}

#[test]
fn every_readme_features_table_lists_exactly_the_documented_features() {
    for name in PUBLISHED {
        let dir = workspace().join(name);
        let documented = documented_features(&read(&dir.join("Cargo.toml")));
        let listed = readme_features(&read(&dir.join("README.md")));
        assert_eq!(
            listed, documented,
            "{name}: the README's features table and the `##` features of Cargo.toml differ"
        );
    }
}

#[test]
fn the_feature_parsers_read_what_they_should() {
    let manifest = "[package]\nname.workspace = true\n\n[features]\ndefault = [\"a\"]\n## A.\na = []\nhidden = []\n## B,\n## on two lines.\nb = [\"a\"]\n\n[dependencies]\n";
    assert_eq!(
        documented_features(manifest),
        BTreeSet::from(["a".to_owned(), "b".to_owned()])
    );
    assert!(package_keys(manifest).contains("name"));
    let readme = "# x\n\n## Features\n\n| feature | default |\n|---|---|\n| `a` | yes |\n| `b` | |\n\n## Links\n\n| `c` | not a feature |\n";
    assert_eq!(
        readme_features(readme),
        BTreeSet::from(["a".to_owned(), "b".to_owned()])
    );
}
