//! `sqlx::migrate!` embeds the migration directories at compile time; a new migration file
//! must rebuild this crate.

fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
}
