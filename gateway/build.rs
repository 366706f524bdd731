//! Builds the web portals (`web/`, TypeScript and React, with npm and Vite) and embeds the built files in the binary,
//! so that `portal serve` serves them and one binary deploys.
//!
//! - `PORTAL_WEB_DIST=<dir>`: embed that already built folder and run no npm (a container build's node stage).
//! - Otherwise, with npm on the PATH: `npm ci` when `web/node_modules` is missing, then `npm run build`; a failed build
//!   fails the cargo build, with npm's output.
//! - Without npm: embed `web/dist` if it was built before, else nothing (the server then says how to build it).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::{env, fs};

fn main() {
    let manifest =
        PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let web = manifest.join("../web");
    // Each source file, not the folder: the build writes the generated operation types into src/gql, which must not
    // make every later cargo build run it again.
    let mut sources = vec![];
    collect(&web.join("src"), &web.join("src"), &mut sources);
    for (path, absolute) in &sources {
        if !path.starts_with("/gql/") {
            println!("cargo:rerun-if-changed={}", absolute.display());
        }
    }
    for input in [
        "public",
        "index.html",
        "package.json",
        "package-lock.json",
        "vite.config.ts",
        "codegen.ts",
        "tsconfig.json",
        "scripts/compress.mjs",
    ] {
        println!("cargo:rerun-if-changed={}", web.join(input).display());
    }
    println!(
        "cargo:rerun-if-changed={}",
        manifest.join("../schema.graphql").display()
    );
    println!("cargo:rerun-if-env-changed=PORTAL_WEB_DIST");

    let dist = match env::var_os("PORTAL_WEB_DIST") {
        Some(dist) => PathBuf::from(dist),
        None => {
            build(&web);
            web.join("dist")
        }
    };
    let mut files = vec![];
    if dist.is_dir() {
        collect(&dist, &dist, &mut files);
    } else {
        println!(
            "cargo:warning=the web portals are not built ({} is missing): run `npm ci && npm run build` in web/",
            dist.display()
        );
    }
    files.sort();
    let mut table = String::from("/// The built web app: each file's path below `/` and its bytes.\npub static FILES: &[(&str, &[u8])] = &[\n");
    for (path, absolute) in &files {
        table.push_str(&format!(
            "    ({path:?}, include_bytes!({:?})),\n",
            absolute.display().to_string()
        ));
    }
    table.push_str("];\n");
    let out = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    fs::write(out.join("web_files.rs"), table).expect("OUT_DIR is writable");
}

/// Runs the web build when npm is here.
fn build(web: &Path) {
    let npm = if cfg!(windows) { "npm.cmd" } else { "npm" };
    if Command::new(npm).arg("--version").output().is_err() {
        println!("cargo:warning=npm is not installed: the web portals are embedded as last built, if at all");
        return;
    }
    if !web.join("node_modules").is_dir() {
        run(Command::new(npm)
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(web));
    }
    run(Command::new(npm)
        .args(["run", "build", "--silent"])
        .current_dir(web));
}

fn run(command: &mut Command) {
    let output = command.output().expect("npm runs");
    if !output.status.success() {
        panic!(
            "{command:?} failed:\n{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// Every file below `dir`, as (`/path/below/root`, absolute path).
fn collect(root: &Path, dir: &Path, files: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(root, &path, files);
        } else if let Ok(relative) = path.strip_prefix(root) {
            let absolute = fs::canonicalize(&path).unwrap_or(path.clone());
            files.push((
                format!("/{}", relative.to_string_lossy().replace('\\', "/")),
                absolute,
            ));
        }
    }
}
