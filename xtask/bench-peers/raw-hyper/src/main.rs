//! `raw-hyper [--port N] [--threads N] [--mode multi|tpc]`: see the crate docs.

fn main() -> std::io::Result<()> {
    raw_hyper::run(peer_common::Args::from_env())
}
