//! Three `nats-server` processes on this machine, with JetStream, started,
//! killed, paused and restarted on command.
//!
//! The servers listen on 127.0.0.1 only, on ports the operating system
//! picks. A JetStream cluster refuses to start a server without routes, so
//! the route ports are taken first (three listeners on port 0 at once, so
//! they differ, closed just before the servers start) and every server is
//! given the others'; client ports are picked by each server, which writes
//! them to a file (`ports_file_dir`) once it listens. A server killed and restarted comes back on the
//! ports it had, with routes to every other server, and finds its store
//! where it left it.
//!
//! Every wait has a time limit, and dropping a [`ServerCluster`] kills
//! every process it started (resuming a paused one first) and waits for it,
//! on every path out of a test, panics included; its folder of stores and
//! logs goes with it.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::ServerBinary;

/// How long a server may take to say where it listens.
const START_LIMIT: Duration = Duration::from_secs(10);

/// How many times a cluster starts again on fresh ports when one was
/// taken before its server could listen on it.
const START_ATTEMPTS: u32 = 5;

/// The cluster's name in every server's configuration.
const CLUSTER_NAME: &str = "capstone";

/// A server process that could not be started or signalled.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The program could not be run, or a file not written.
    #[error("{server}: {source}")]
    Io {
        /// Which server.
        server: String,
        /// What failed.
        source: std::io::Error,
    },
    /// The server did not write its ports in time.
    #[error("{server} did not start within {START_LIMIT:?} (see {log})")]
    NotStarted {
        /// Which server.
        server: String,
        /// Its log file.
        log: String,
    },
    /// A port chosen for the server was taken by another process between
    /// the moment it was found free and the server's start.
    #[error("{server} could not listen: port {port} was taken in the meantime")]
    PortTaken {
        /// Which server.
        server: String,
        /// The port it was given.
        port: u16,
    },
    /// No server has this number.
    #[error("there is no server {0} in this cluster")]
    UnknownServer(usize),
}

/// One server process.
#[derive(Debug)]
struct ServerProcess {
    /// Its name, `n1` to `n3`: what JetStream reports as a leader.
    name: String,
    client_port: u16,
    /// Its cluster (route) port.
    cluster_port: u16,
    /// The running process; `None` while it is killed.
    child: Option<Child>,
    /// Whether it is stopped with SIGSTOP.
    paused: bool,
}

/// `nats-server` processes forming one JetStream cluster; see the module
/// documentation.
#[derive(Debug)]
pub struct ServerCluster {
    /// The program.
    binary: ServerBinary,
    /// Stores, configurations, port files and logs.
    folder: PathBuf,
    /// The servers, in order: index 0 is `n1`.
    servers: Vec<ServerProcess>,
}

impl ServerCluster {
    /// Starts `count` servers of `binary`, keeping everything in `folder`,
    /// which is emptied first and removed when the cluster is dropped.
    ///
    /// # Errors
    /// [`ServerError`] when a server cannot start; those already started
    /// are stopped.
    pub fn start(binary: ServerBinary, count: usize, folder: &Path) -> Result<Self, ServerError> {
        // The route ports are found free and then given to the servers: a
        // process started in between (another test's server, asking the
        // system for any port) can take one. Then the whole cluster starts
        // again on other ports.
        let mut attempt = 1;
        loop {
            match Self::start_once(binary.clone(), count, folder) {
                Err(ServerError::PortTaken { .. }) if attempt < START_ATTEMPTS => attempt += 1,
                outcome => return outcome,
            }
        }
    }

    /// One try of [`start`](Self::start).
    fn start_once(binary: ServerBinary, count: usize, folder: &Path) -> Result<Self, ServerError> {
        let _ = std::fs::remove_dir_all(folder);
        std::fs::create_dir_all(folder).map_err(|source| ServerError::Io {
            server: "cluster".into(),
            source,
        })?;
        let mut cluster = Self {
            binary,
            folder: folder.to_path_buf(),
            servers: Vec::new(),
        };
        let cluster_ports = free_ports(count).map_err(|source| ServerError::Io {
            server: "cluster".into(),
            source,
        })?;
        for (index, &port) in cluster_ports.iter().enumerate() {
            let name = format!("n{}", index + 1);
            let routes: Vec<u16> = cluster_ports
                .iter()
                .copied()
                .filter(|&other| other != port)
                .collect();
            let (child, client_port, cluster_port) = cluster.spawn(&name, 0, port, &routes)?;
            cluster.servers.push(ServerProcess {
                name,
                client_port,
                cluster_port,
                child: Some(child),
                paused: false,
            });
        }
        Ok(cluster)
    }

    /// Every server's client address, for a client's list of servers.
    pub fn client_urls(&self) -> Vec<String> {
        self.servers
            .iter()
            .map(|server| format!("nats://127.0.0.1:{}", server.client_port))
            .collect()
    }

    /// How many servers the cluster has.
    pub fn len(&self) -> usize {
        self.servers.len()
    }

    /// Whether it has none.
    pub fn is_empty(&self) -> bool {
        self.servers.is_empty()
    }

    /// The index of the server named `name` (`n2` is 1).
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.servers.iter().position(|server| server.name == name)
    }

    /// The name of server `index`.
    pub fn name(&self, index: usize) -> Option<&str> {
        self.servers.get(index).map(|server| server.name.as_str())
    }

    /// The process id of server `index`, unless it was killed; for a
    /// program that must stop the servers even if this one cannot (a
    /// demo's warden).
    pub fn pid(&self, index: usize) -> Option<u32> {
        self.servers.get(index)?.child.as_ref().map(Child::id)
    }

    /// Whether server `index` runs (not killed, not died).
    pub fn is_running(&mut self, index: usize) -> bool {
        self.servers
            .get_mut(index)
            .and_then(|server| server.child.as_mut())
            .is_some_and(|child| matches!(child.try_wait(), Ok(None)))
    }

    /// Kills server `index` (SIGKILL: no goodbye, nothing flushed) and
    /// waits for it.
    ///
    /// # Errors
    /// [`ServerError::UnknownServer`].
    pub fn kill(&mut self, index: usize) -> Result<(), ServerError> {
        let server = self
            .servers
            .get_mut(index)
            .ok_or(ServerError::UnknownServer(index))?;
        if let Some(mut child) = server.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        server.paused = false;
        Ok(())
    }

    /// Freezes server `index` with SIGSTOP, as a long garbage-collection
    /// pause or a stalled virtual machine would: its sockets stay open and
    /// nothing answers.
    ///
    /// # Errors
    /// [`ServerError`] when the signal cannot be sent.
    pub fn pause(&mut self, index: usize) -> Result<(), ServerError> {
        self.signal(index, "-STOP")?;
        if let Some(server) = self.servers.get_mut(index) {
            server.paused = true;
        }
        Ok(())
    }

    /// Lets a paused server `index` go on (SIGCONT).
    ///
    /// # Errors
    /// [`ServerError`] when the signal cannot be sent.
    pub fn resume(&mut self, index: usize) -> Result<(), ServerError> {
        self.signal(index, "-CONT")?;
        if let Some(server) = self.servers.get_mut(index) {
            server.paused = false;
        }
        Ok(())
    }

    /// Starts a killed server `index` again on its ports, from its store,
    /// with routes to every other server. A running server is left alone.
    ///
    /// # Errors
    /// [`ServerError`] when it cannot start.
    pub fn restart(&mut self, index: usize) -> Result<(), ServerError> {
        if self.is_running(index) {
            return Ok(());
        }
        let server = self
            .servers
            .get(index)
            .ok_or(ServerError::UnknownServer(index))?;
        let routes: Vec<u16> = self
            .servers
            .iter()
            .filter(|other| other.name != server.name)
            .map(|other| other.cluster_port)
            .collect();
        let (name, client_port, cluster_port) =
            (server.name.clone(), server.client_port, server.cluster_port);
        let (child, _, _) = self.spawn(&name, client_port, cluster_port, &routes)?;
        if let Some(server) = self.servers.get_mut(index) {
            server.child = Some(child);
        }
        Ok(())
    }

    /// The folder of stores and logs.
    pub fn folder(&self) -> &Path {
        &self.folder
    }

    /// Sends `signal` to server `index`.
    fn signal(&mut self, index: usize, signal: &str) -> Result<(), ServerError> {
        let server = self
            .servers
            .get_mut(index)
            .ok_or(ServerError::UnknownServer(index))?;
        let Some(child) = server.child.as_ref() else {
            return Ok(());
        };
        send_signal(child, signal).map_err(|source| ServerError::Io {
            server: server.name.clone(),
            source,
        })
    }

    /// Writes `name`'s configuration and starts it on `client_port` and
    /// `cluster_port` (0: any free port), routed to `routes`; waits for
    /// its ports file and returns the ports it listens on.
    fn spawn(
        &self,
        name: &str,
        client_port: u16,
        cluster_port: u16,
        routes: &[u16],
    ) -> Result<(Child, u16, u16), ServerError> {
        let io = |source| ServerError::Io {
            server: name.to_string(),
            source,
        };
        let ports_folder = self.folder.join(format!("{name}-ports"));
        let _ = std::fs::remove_dir_all(&ports_folder);
        std::fs::create_dir_all(&ports_folder).map_err(io)?;
        let log = self.folder.join(format!("{name}.log"));
        let any = |port: u16| if port == 0 { -1 } else { i32::from(port) };
        let mut routes_text = String::new();
        for port in routes {
            let _ = write!(routes_text, "\"nats-route://127.0.0.1:{port}\", ");
        }
        let configuration = format!(
            "server_name: {name}\n\
             host: 127.0.0.1\n\
             port: {client}\n\
             ports_file_dir: \"{ports}\"\n\
             log_file: \"{log}\"\n\
             jetstream {{\n  store_dir: \"{store}\"\n  max_memory_store: 64MB\n  max_file_store: 1GB\n}}\n\
             cluster {{\n  name: {CLUSTER_NAME}\n  host: 127.0.0.1\n  port: {cluster}\n  routes: [{routes_text}]\n}}\n",
            client = any(client_port),
            cluster = any(cluster_port),
            ports = ports_folder.display(),
            log = log.display(),
            store = self.folder.join(name).display(),
        );
        let configuration_path = self.folder.join(format!("{name}.conf"));
        std::fs::write(&configuration_path, configuration).map_err(io)?;
        let mut child = Command::new(&self.binary.path)
            .arg("--config")
            .arg(&configuration_path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(io)?;
        let started = Instant::now();
        loop {
            if let Some(ports) = read_ports(&ports_folder) {
                return Ok((child, ports.0, ports.1));
            }
            let died = matches!(child.try_wait(), Ok(Some(_)));
            if died || started.elapsed() > START_LIMIT {
                let _ = child.kill();
                let _ = child.wait();
                let said = std::fs::read_to_string(&log).unwrap_or_default();
                if said.contains("address already in use") {
                    return Err(ServerError::PortTaken {
                        server: name.to_string(),
                        port: if said.contains("router port") {
                            cluster_port
                        } else {
                            client_port
                        },
                    });
                }
                return Err(ServerError::NotStarted {
                    server: name.to_string(),
                    log: log.display().to_string(),
                });
            }
            // Real time, outside any test's clock: a process starting.
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for ServerCluster {
    /// Kills every server still running (a paused one is resumed first,
    /// so it can die) and waits for it, then removes the folder.
    fn drop(&mut self) {
        for index in 0..self.servers.len() {
            if self.servers[index].paused {
                let _ = self.resume(index);
            }
            let _ = self.kill(index);
        }
        let _ = std::fs::remove_dir_all(&self.folder);
    }
}

/// Sends `signal` (`-STOP`, `-CONT`) to `child` with the `kill` program:
/// the standard library sends only SIGKILL, and `unsafe` is forbidden.
///
/// # Errors
/// When `kill` cannot run or refuses (the process is gone).
pub(crate) fn send_signal(child: &Child, signal: &str) -> std::io::Result<()> {
    let status = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()?;
    if status.success() {
        Ok(())
    } else {
        Err(std::io::Error::other(format!(
            "kill {signal} {} failed",
            child.id()
        )))
    }
}

/// The client and cluster ports in the ports file a server wrote into
/// `folder` (`{"nats":["nats://127.0.0.1:P"],"cluster":["nats://...:Q"]}`),
/// once it is complete.
fn read_ports(folder: &Path) -> Option<(u16, u16)> {
    let entry = std::fs::read_dir(folder).ok()?.flatten().next()?;
    let text = std::fs::read_to_string(entry.path()).ok()?;
    let port_after = |key: &str| -> Option<u16> {
        let rest = &text[text.find(key)? + key.len()..];
        let rest = &rest[rest.find("127.0.0.1:")? + "127.0.0.1:".len()..];
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        digits.parse().ok()
    };
    Some((port_after("\"nats\"")?, port_after("\"cluster\"")?))
}

/// `count` distinct ports that were free a moment ago: listeners on port 0,
/// held together so the system gives each a different port, then closed.
fn free_ports(count: usize) -> std::io::Result<Vec<u16>> {
    let listeners = (0..count)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0"))
        .collect::<std::io::Result<Vec<_>>>()?;
    listeners
        .iter()
        .map(|listener| listener.local_addr().map(|address| address.port()))
        .collect()
}
