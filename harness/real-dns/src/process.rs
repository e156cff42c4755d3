//! Running a server program: finding it, giving it a directory and free ports, waiting until
//! it answers, and making sure it goes away.
//!
//! **Architecture invariant:** nothing here knows which DNS software runs; the backends say
//! what to run and which zone proves it is up.

use std::collections::HashSet;
use std::ffi::{OsStr, OsString};
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{RData, RecordType};
use tokio::process::{Child, Command};

use crate::dns::{Transport, query};
use crate::error::{Error, Result};

/// Where a program is looked for: an explicit path, or a name searched in a PATH.
pub(crate) fn find_binary(
    program: &Path,
    search_path: Option<&OsStr>,
    package: &'static str,
) -> Result<PathBuf> {
    let missing = || Error::MissingBinary {
        binary: program.display().to_string(),
        package,
    };
    if program.components().count() > 1 || program.is_absolute() {
        return if program.is_file() {
            Ok(program.to_path_buf())
        } else {
            Err(missing())
        };
    }
    let path: OsString = match search_path {
        Some(p) => p.to_os_string(),
        // Debian installs the servers in /usr/sbin, which a user's PATH often lacks.
        None => {
            let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
                .map(|p| std::env::split_paths(&p).collect())
                .unwrap_or_default();
            dirs.extend(["/usr/sbin", "/sbin"].map(PathBuf::from));
            std::env::join_paths(dirs).unwrap_or_default()
        }
    };
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
        .ok_or_else(missing)
}

/// Ports handed out by this process and not yet known to be free again: parallel tests in
/// one process never get the same port, even in the window between our probe and the
/// server's own bind.
fn handed_out() -> &'static Mutex<HashSet<u16>> {
    static PORTS: OnceLock<Mutex<HashSet<u16>>> = OnceLock::new();
    PORTS.get_or_init(|| Mutex::new(HashSet::new()))
}

/// A loopback port free for both UDP and TCP right now.
///
/// The kernel picks it (bind to port 0), then we check that TCP can bind it too, and release
/// both for the server to take. Another process can still take it in between; the caller
/// retries a start whose log says the address is in use.
pub(crate) fn free_port() -> Result<u16> {
    for _ in 0..50 {
        let udp = UdpSocket::bind(("127.0.0.1", 0))
            .map_err(|e| Error::io("binding a UDP probe socket", e))?;
        let port = udp
            .local_addr()
            .map_err(|e| Error::io("reading a probe socket's port", e))?
            .port();
        if TcpListener::bind(("127.0.0.1", port)).is_err() {
            continue;
        }
        let mut ports = handed_out()
            .lock()
            .expect("invariant: the port set is never left poisoned (no panics while held)");
        if ports.insert(port) {
            return Ok(port);
        }
    }
    Err(Error::io(
        "finding a free loopback port",
        std::io::Error::new(std::io::ErrorKind::AddrInUse, "50 tries"),
    ))
}

/// Gives ports back once their server is gone.
pub(crate) fn release_ports(ports: &[u16]) {
    if let Ok(mut set) = handed_out().lock() {
        for p in ports {
            set.remove(p);
        }
    }
}

/// Whether a failed start looks like a port taken by someone else (worth a retry with other
/// ports).
pub(crate) fn is_port_conflict(e: &Error) -> bool {
    let tail = match e {
        Error::Exited { log_tail, .. } | Error::StartTimeout { log_tail, .. } => log_tail,
        _ => return false,
    };
    let tail = tail.to_ascii_lowercase();
    tail.contains("in use") || tail.contains("cannot bind") || tail.contains("unable to bind")
}

/// The last `lines` lines of a log file (or why it could not be read).
pub(crate) fn tail_of(path: &Path, lines: usize) -> String {
    match std::fs::read(path) {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            let all: Vec<&str> = text.lines().collect();
            all[all.len().saturating_sub(lines)..].join("\n")
        }
        Err(e) => format!("(cannot read {}: {e})", path.display()),
    }
}

/// A server process in the foreground, with its working directory.
///
/// Dropping it kills the process (SIGKILL), so a panicking test leaves nothing running; the
/// directory goes with it. [`ServerProcess::stop`] does the same and also waits until the
/// process is reaped, so the caller can rely on it being gone.
#[derive(Debug)]
pub(crate) struct ServerProcess {
    software: &'static str,
    child: tokio::sync::Mutex<Option<Child>>,
    pid: u32,
    log: PathBuf,
    ports: Vec<u16>,
    // Declared last: dropped after the process is killed.
    dir: tempfile::TempDir,
}

impl ServerProcess {
    /// Starts `program` with `args` in `dir`, stdout and stderr appended to `dir/server.log`.
    pub(crate) fn spawn(
        software: &'static str,
        program: &Path,
        args: &[OsString],
        dir: tempfile::TempDir,
        ports: Vec<u16>,
    ) -> Result<Self> {
        let log = dir.path().join("server.log");
        let out = std::fs::File::create(&log)
            .map_err(|e| Error::io(format!("creating {}", log.display()), e))?;
        let err = out
            .try_clone()
            .map_err(|e| Error::io("duplicating the log file handle", e))?;
        let child = Command::new(program)
            .args(args)
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err))
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| Error::io(format!("starting {}", program.display()), e))?;
        let pid = child
            .id()
            .expect("invariant: a just-spawned child has not been reaped yet");
        tracing::debug!(software, pid, dir = %dir.path().display(), "server started");
        Ok(Self {
            software,
            child: tokio::sync::Mutex::new(Some(child)),
            pid,
            log,
            ports,
            dir,
        })
    }

    /// The process id.
    pub(crate) fn pid(&self) -> u32 {
        self.pid
    }

    /// The working directory.
    pub(crate) fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The log file.
    pub(crate) fn log_path(&self) -> &Path {
        &self.log
    }

    /// The end of the log, for error messages.
    pub(crate) fn log_tail(&self) -> String {
        tail_of(&self.log, 30)
    }

    /// An error if the process has exited.
    pub(crate) async fn check_alive(&self) -> Result<()> {
        let mut guard = self.child.lock().await;
        let Some(child) = guard.as_mut() else {
            return Err(Error::Exited {
                software: self.software,
                status: "stopped".into(),
                log_tail: self.log_tail(),
            });
        };
        match child.try_wait() {
            Ok(None) => Ok(()),
            Ok(Some(status)) => Err(Error::Exited {
                software: self.software,
                status: status.to_string(),
                log_tail: self.log_tail(),
            }),
            Err(e) => Err(Error::io("checking the server process", e)),
        }
    }

    /// Waits until the server answers a SOA query over UDP for `zone` with NOERROR and the
    /// zone's SOA, or fails with the log tail when the process exits or `waited` passes.
    pub(crate) async fn wait_ready(
        &self,
        server: SocketAddr,
        zone: &str,
        waited: Duration,
    ) -> Result<()> {
        let start = Instant::now();
        loop {
            self.check_alive().await?;
            if let Ok(m) = query(server, zone, RecordType::SOA, Transport::Udp).await
                && m.metadata.response_code == ResponseCode::NoError
                && m.answers.iter().any(|r| matches!(r.data, RData::SOA(_)))
            {
                return Ok(());
            }
            if start.elapsed() >= waited {
                return Err(Error::StartTimeout {
                    software: self.software,
                    zone: zone.to_string(),
                    waited,
                    log_tail: self.log_tail(),
                });
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Kills the process (SIGKILL) and waits until it is reaped. Idempotent.
    pub(crate) async fn stop(&self) -> Result<()> {
        let child = self.child.lock().await.take();
        if let Some(mut child) = child {
            // start_kill fails only when the process was already reaped; wait() then returns
            // its status at once.
            let _already_gone = child.start_kill();
            child
                .wait()
                .await
                .map_err(|e| Error::io(format!("waiting for {} to exit", self.software), e))?;
            tracing::debug!(software = self.software, pid = self.pid, "server stopped");
        }
        release_ports(&self.ports);
        Ok(())
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        // Without a runtime we cannot wait, but the kill is synchronous: the process dies even
        // when a test panics. tokio reaps it in the background.
        if let Some(child) = self.child.get_mut().as_mut() {
            let _already_gone = child.start_kill();
        }
        release_ports(&self.ports);
    }
}

/// Runs a short control command to completion and returns its stdout; non-zero exit is an
/// [`Error::Control`] with everything it printed.
pub(crate) async fn run_control(program: &Path, args: &[&str]) -> Result<String> {
    let command = format!("{} {}", program.display(), args.join(" "));
    let output = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .await
        .map_err(|e| Error::io(format!("running {command}"), e))?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    if !output.status.success() {
        return Err(Error::Control {
            command,
            output: format!(
                "{}: {}{}",
                output.status,
                stdout,
                String::from_utf8_lossy(&output.stderr)
            ),
        });
    }
    Ok(stdout)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hidden_binary_names_its_package() {
        let e =
            find_binary(Path::new("knotd"), Some(OsStr::new("/nonexistent")), "knot").unwrap_err();
        assert!(
            matches!(
                e,
                Error::MissingBinary {
                    package: "knot",
                    ..
                }
            ),
            "{e}"
        );
        let e = find_binary(Path::new("/nonexistent/knotd"), None, "knot").unwrap_err();
        assert!(
            e.to_string().contains("install the Debian package knot"),
            "{e}"
        );
    }

    #[test]
    fn free_ports_are_not_handed_out_twice() {
        let a = free_port().unwrap();
        let b = free_port().unwrap();
        assert_ne!(a, b);
        release_ports(&[a, b]);
    }
}
