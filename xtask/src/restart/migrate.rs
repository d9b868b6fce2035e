//! `net.ipv4.tcp_migrate_req` (Linux 5.14+): whether the kernel moves the
//! connections waiting in a closing `SO_REUSEPORT` listener's accept queue
//! to another listener of the group instead of resetting them.

const PATH: &str = "/proc/sys/net/ipv4/tcp_migrate_req";

/// The setting now.
pub fn current() -> Result<bool, String> {
    let text = std::fs::read_to_string(PATH).map_err(|e| format!("{PATH}: {e}"))?;
    Ok(text.trim() == "1")
}

/// Whether this process may change it (root, in the network namespace of
/// the check).
pub fn writable() -> bool {
    std::fs::OpenOptions::new().write(true).open(PATH).is_ok()
}

/// The setting changed for a while; put back as it was on drop.
pub struct MigrateReq {
    was: bool,
}

impl MigrateReq {
    /// Sets it to `on`, saying so.
    pub fn set(on: bool) -> Result<MigrateReq, String> {
        let was = current()?;
        if was != on {
            eprintln!("setting net.ipv4.tcp_migrate_req = {} for this check", u8::from(on));
            write(on)?;
        }
        Ok(MigrateReq { was })
    }
}

impl Drop for MigrateReq {
    fn drop(&mut self) {
        if current().ok() != Some(self.was) {
            eprintln!("restoring net.ipv4.tcp_migrate_req = {}", u8::from(self.was));
            if let Err(e) = write(self.was) {
                eprintln!("could not restore net.ipv4.tcp_migrate_req: {e}");
            }
        }
    }
}

fn write(on: bool) -> Result<(), String> {
    std::fs::write(PATH, if on { "1" } else { "0" }).map_err(|e| format!("{PATH}: {e}"))
}
