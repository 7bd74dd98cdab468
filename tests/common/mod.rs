//! Shared helpers for the integration tests: the real binary, and one local
//! AWS emulator (moto in server mode) per test binary.
#![allow(dead_code)] // each test binary uses a different subset

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

pub const ACCOUNT: &str = "123456789012";

/// A moto server that lives exactly as long as this test binary: it stops
/// when the pipe to its stdin closes, which happens when this process exits.
pub struct Emulator {
    pub endpoint: String,
    _child: Child,
}

/// The Python of the emulator's virtualenv (MOTO_PYTHON overrides it).
pub fn python() -> PathBuf {
    std::env::var_os("MOTO_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python"))
}

/// Runs one of the tests/emulator/*.py seeding scripts against the emulator
/// and returns what it printed.
pub fn seed_script(script: &str, args: &[&str]) -> String {
    let out = Command::new(python())
        .arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/emulator").join(script))
        .arg(&emulator().endpoint)
        .args(args)
        .output()
        .expect("run the seeding script");
    assert!(out.status.success(), "{script} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// The emulator for this test binary, started on first use.
pub fn emulator() -> &'static Emulator {
    static EMULATOR: OnceLock<Emulator> = OnceLock::new();
    EMULATOR.get_or_init(|| {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let python = python();
        assert!(
            python.exists(),
            "no emulator: {} is missing. Run `make venv` (or `make test`), or set MOTO_PYTHON.",
            python.display()
        );
        let mut child = Command::new(&python)
            .arg(root.join("tests/emulator/serve.py"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start tests/emulator/serve.py");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).expect("read emulator port");
        let port = line.strip_prefix("READY ").map(str::trim).unwrap_or_else(|| {
            panic!("emulator did not start (said {line:?}); try: {} tests/emulator/serve.py", python.display())
        });
        Emulator { endpoint: format!("http://127.0.0.1:{port}"), _child: child }
    })
}

/// The real binary, with an environment that points at nothing real: no
/// config files, no instance metadata, fake credentials.
pub fn bin() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("ecs-key-preflight").unwrap();
    // A scratch working directory: no ecs-key-preflight.toml is picked up by accident.
    cmd.current_dir(std::env::temp_dir())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", std::env::temp_dir())
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_DISABLED", "true");
    cmd
}

/// The binary wired to the emulator, in `region`.
pub fn bin_aws(region: &str) -> assert_cmd::Command {
    let mut cmd = bin();
    cmd.env("AWS_ENDPOINT_URL", &emulator().endpoint)
        .env("AWS_ACCESS_KEY_ID", "EXAMPLEACCESSKEYID")
        .env("AWS_SECRET_ACCESS_KEY", "EXAMPLESECRETACCESSKEY")
        .env("AWS_REGION", region)
        .env("AWS_MAX_ATTEMPTS", "2");
    cmd
}

/// Runs the command and returns its exit code and stdout parsed as JSON.
pub fn run_json(cmd: &mut assert_cmd::Command) -> (i32, serde_json::Value) {
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let json = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!("stdout is not JSON ({e}):\n{stdout}\nstderr:\n{}", String::from_utf8_lossy(&out.stderr))
    });
    (out.status.code().unwrap_or(-1), json)
}

/// SDK configuration for seeding the emulator from a test.
pub async fn sdk_config(region: &str) -> aws_config::SdkConfig {
    let creds = aws_sdk_kms::config::Credentials::new("EXAMPLEACCESSKEYID", "EXAMPLEKEY", None, None, "tests");
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(region.to_string()))
        .endpoint_url(&emulator().endpoint)
        .credentials_provider(creds)
        .load()
        .await
}

/// Path of a file under tests/fixtures.
pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

/// A key policy with the documented Fargate statements for `clusters` of
/// ACCOUNT, plus the usual statement that delegates to the account.
pub fn fargate_policy(clusters: &[&str]) -> String {
    let names = serde_json::to_string(clusters).unwrap();
    format!(
        r#"{{"Version":"2012-10-17","Statement":[
  {{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:root"}},"Action":"kms:*","Resource":"*"}},
  {{"Sid":"Allow generate data key access for Fargate tasks.","Effect":"Allow","Principal":{{"Service":"fargate.amazonaws.com"}},"Action":["kms:GenerateDataKeyWithoutPlaintext"],"Condition":{{"StringEquals":{{"kms:EncryptionContext:aws:ecs:clusterAccount":["{ACCOUNT}"],"kms:EncryptionContext:aws:ecs:clusterName":{names}}}}},"Resource":"*"}},
  {{"Sid":"Allow grant creation permission for Fargate tasks.","Effect":"Allow","Principal":{{"Service":"fargate.amazonaws.com"}},"Action":["kms:CreateGrant"],"Condition":{{"StringEquals":{{"kms:EncryptionContext:aws:ecs:clusterAccount":["{ACCOUNT}"],"kms:EncryptionContext:aws:ecs:clusterName":{names}}},"ForAllValues:StringEquals":{{"kms:GrantOperations":["Decrypt"]}}}},"Resource":"*"}}
]}}"#
    )
}

/// A tests/emulator/proxy.py in front of the emulator: latency, in-flight
/// counting, an operation log, failure injection. Stops with this process.
pub struct Proxy {
    pub endpoint: String,
    /// With TLS: the test CA to trust (`SSL_CERT_FILE`).
    pub ca: Option<PathBuf>,
    port: u16,
    _child: Child,
    _certs: Option<tempfile::TempDir>,
}

impl Proxy {
    /// Starts a proxy that adds `delay_ms` of round-trip time.
    pub fn start(delay_ms: u32) -> Proxy {
        Self::spawn(delay_ms, None)
    }

    /// Starts a proxy that adds `delay_ms` of round-trip time and speaks
    /// HTTPS (a throw-away CA from tests/emulator/test_ca.py), answering
    /// each new connection's handshake `handshake_ms` late. Its control
    /// requests stay plain HTTP.
    pub fn start_tls(delay_ms: u32, handshake_ms: u32) -> Proxy {
        Self::spawn(delay_ms, Some(handshake_ms))
    }

    fn spawn(delay_ms: u32, handshake_ms: Option<u32>) -> Proxy {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let mut cmd = Command::new(python());
        cmd.arg(root.join("tests/emulator/proxy.py"))
            .arg(&emulator().endpoint)
            .arg("--delay-ms")
            .arg(delay_ms.to_string());
        let mut certs = None;
        let mut ca = None;
        if let Some(handshake_ms) = handshake_ms {
            let dir = tempfile::tempdir().unwrap();
            let out = Command::new(python())
                .arg(root.join("tests/emulator/test_ca.py"))
                .arg(dir.path())
                .output()
                .expect("run tests/emulator/test_ca.py");
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            let paths: Vec<PathBuf> = String::from_utf8(out.stdout).unwrap().lines().map(PathBuf::from).collect();
            cmd.arg("--tls-cert").arg(&paths[1]).arg("--tls-key").arg(&paths[2]);
            cmd.arg("--connect-delay-ms").arg(handshake_ms.to_string());
            ca = Some(paths[0].clone());
            certs = Some(dir);
        }
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start tests/emulator/proxy.py");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).expect("read proxy port");
        let port: u16 = line.strip_prefix("READY ").and_then(|p| p.trim().parse().ok()).expect("proxy port");
        let scheme = if ca.is_some() { "https" } else { "http" };
        Proxy { endpoint: format!("{scheme}://127.0.0.1:{port}"), ca, port, _child: child, _certs: certs }
    }

    /// One control request to the proxy (plain HTTP/1.1 over a socket).
    pub fn control(&self, method: &str, path: &str, body: &str) -> serde_json::Value {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        let json = out.split("\r\n\r\n").nth(1).unwrap_or("{}");
        serde_json::from_str(json).unwrap()
    }

    pub fn stats(&self) -> serde_json::Value {
        self.control("GET", "/__stats", "")
    }

    pub fn reset(&self) {
        self.control("POST", "/__reset", "");
    }

    /// Every later request whose body or operation contains `matches` gets
    /// `status` and `body` instead of the emulator's answer.
    pub fn fail(&self, matches: &str, status: u16, body: &str, content_type: &str) {
        let rule = serde_json::json!({"match": matches, "status": status, "body": body, "content_type": content_type});
        self.control("POST", "/__fail", &rule.to_string());
    }
}
